// promoter: a Jenkins shared-library step for the GitOps promotion engine.
//
//   def r = promoter.bump(repoUrl: 'https://git.example.com/acme/env.git', env: 'dev',
//                         image: "ghcr.io/acme/api:${env.TAG_NAME}", credentialsId: 'env-repo-token')
//   promoter.promote(from: 'dev', to: ['staging'], services: ['api'], repoUrl: '…', credentialsId: '…')
//   promoter.check(from: 'dev', to: 'staging')          // in a checkout of the environment repository
//   promoter.plan(from: 'staging', to: 'prod-eu')
//
// Each call installs promoter (pinned) into a virtualenv on the agent, runs one
// command with the token from a Jenkins "Secret text" credential in the
// environment, and returns [changed, prUrl, prNumber, result, commit,
// exitCode, json]. A non-zero exit fails the build with promoter's own message
// (failOnError: false returns it instead). Options are passed to the shell as
// environment variables, one argument each: never pasted into a script.
// Help: vars/promoter.txt. Shell side: resources/promoter/run.sh.

import groovy.transform.Field

@Field static final String DEFAULT_VERSION = '0.1.0'

// Options of each command: name -> [flag, kind]; kind: 'value', 'list' (the flag
// repeats for each element) or 'flag' (true adds it, false leaves it out).
@Field static final Map<String, Map<String, List<String>>> COMMANDS = [
    bump: [
        env: ['--env', 'value'], service: ['--service', 'value'], tag: ['--tag', 'value'],
        digest: ['--digest', 'value'], image: ['--image', 'value'],
        repoUrl: ['--repo-url', 'value'], branch: ['--branch', 'value'],
        message: ['--message', 'value'], retries: ['--retries', 'value'],
        latest: ['--latest', 'flag'], constraint: ['--constraint', 'value'],
        resolveDigest: ['--resolve-digest', 'flag'],
        forge: ['--forge', 'value'], apiUrl: ['--api-url', 'value'],
    ],
    promote: [
        from: ['--from', 'value'], to: ['--to', 'list'], services: ['--service', 'list'],
        all: ['--all', 'flag'], draft: ['--draft', 'flag'],
        repoUrl: ['--repo-url', 'value'], repoDir: ['--repo', 'value'],
        forge: ['--forge', 'value'], apiUrl: ['--api-url', 'value'],
    ],
    check: [
        pr: ['--pr', 'value'], from: ['--from', 'value'], to: ['--to', 'value'],
        repoUrl: ['--repo-url', 'value'], repoDir: ['--repo', 'value'],
        forge: ['--forge', 'value'], apiUrl: ['--api-url', 'value'],
    ],
    plan: [
        from: ['--from', 'value'], to: ['--to', 'value'], services: ['--service', 'list'],
        repoDir: ['--repo', 'value'],
    ],
]

// Options of the step itself, accepted by every command.
@Field static final List<String> STEP_OPTIONS = [
    'credentialsId', 'tokenVariable', 'version', 'package', 'promoterCommand', 'python', 'venv',
    'failOnError', 'quiet',
]

@Field static final List<String> TOKEN_VARIABLES = [
    'PROMOTER_GIT_TOKEN', 'PROMOTER_FORGE_TOKEN', 'GITLAB_TOKEN', 'GITHUB_TOKEN',
]

def bump(Map opts = [:]) { runCommand('bump', opts) }

def promote(Map opts = [:]) { runCommand('promote', opts) }

def check(Map opts = [:]) { runCommand('check', opts) }

def plan(Map opts = [:]) { runCommand('plan', opts) }

// promoter(command: 'bump', …) as a shorthand for promoter.bump(…).
def call(Map opts = [:]) {
    Map rest = new LinkedHashMap(opts)
    def command = rest.remove('command')
    if (!(command in COMMANDS.keySet())) {
        error("promoter: command must be one of ${COMMANDS.keySet().join(', ')}, not '${command}'")
    }
    runCommand(command as String, rest)
}

// The command line for `command` with `opts`: a list of arguments, each one
// element, whatever characters it holds.
@NonCPS
static List<String> arguments(String command, Map opts) {
    Map<String, List<String>> known = COMMANDS[command]
    if (known == null) {
        throw new IllegalArgumentException("unknown command '${command}'")
    }
    List<String> unknown = opts.keySet().collect { it as String }.findAll {
        !known.containsKey(it) && !STEP_OPTIONS.contains(it)
    }
    if (unknown) {
        throw new IllegalArgumentException("promoter.${command}: unknown option(s) " +
            "${unknown.join(', ')}; known: ${(known.keySet() + STEP_OPTIONS).join(', ')}")
    }
    List<String> args = [command]
    known.each { String name, List<String> spec ->
        def value = opts[name]
        if (value == null) {
            return
        }
        String flag = spec[0]
        String kind = spec[1]
        if (kind == 'flag') {
            if (!(value instanceof Boolean)) {
                throw new IllegalArgumentException("promoter.${command}: ${name} must be true or false")
            }
            if (value) {
                args << flag
            }
        } else if (kind == 'list') {
            List values = (value instanceof Collection) ? value as List : [value]
            values.each { args << flag; args << (it as String) }
        } else {
            if (value instanceof Collection || value instanceof Map) {
                throw new IllegalArgumentException("promoter.${command}: ${name} takes one value")
            }
            args << flag
            args << (value as String)
        }
    }
    args << '--output'
    args << 'json'
    return args
}

// What run.sh reads: the arguments one variable each, and the step's options.
@NonCPS
static List<String> environment(List<String> args, Map opts, String work) {
    List<String> vars = [
        'PROMOTER_ARGC=' + args.size(),
        'PROMOTER_WORKDIR=' + work,
        'PROMOTER_VERSION=' + (opts.version ?: DEFAULT_VERSION),
        'PROMOTER_PACKAGE=' + (opts['package'] ?: ''),
        'PROMOTER_COMMAND=' + (opts.promoterCommand ?: ''),
        'PROMOTER_PYTHON=' + (opts.python ?: 'python3'),
        'PROMOTER_VENV=' + (opts.venv ?: ''),
        'PROMOTER_QUIET=' + (opts.quiet ? 'true' : 'false'),
    ]
    args.eachWithIndex { String arg, int i -> vars << ('PROMOTER_ARG_' + (i + 1) + '=' + arg) }
    return vars
}

// KEY=value lines of outputs.env -> a map.
@NonCPS
static Map<String, String> parseOutputs(String text) {
    Map<String, String> out = [:]
    text.readLines().each { String line ->
        int at = line.indexOf('=')
        if (at > 0) {
            out[line.substring(0, at)] = line.substring(at + 1)
        }
    }
    return out
}

def runCommand(String command, Map opts) {
    List<String> args
    try {
        args = arguments(command, opts)
    } catch (IllegalArgumentException err) {
        error(err.message)
    }
    String tokenVariable = (opts.tokenVariable ?: 'PROMOTER_GIT_TOKEN') as String
    if (!(tokenVariable in TOKEN_VARIABLES)) {
        error("promoter: tokenVariable must be one of ${TOKEN_VARIABLES.join(', ')}")
    }
    String work = "${pwd(tmp: true)}/promoter"
    List<String> variables = environment(args, opts, work)

    writeFile(file: "${work}/run.sh", text: libraryResource('promoter/run.sh'))
    int status = 0
    withEnv(variables) {
        if (opts.credentialsId) {
            withCredentials([string(credentialsId: opts.credentialsId as String, variable: tokenVariable)]) {
                status = sh(script: 'bash "$PROMOTER_WORKDIR/run.sh"', returnStatus: true)
            }
        } else {
            status = sh(script: 'bash "$PROMOTER_WORKDIR/run.sh"', returnStatus: true)
        }
    }

    Map<String, String> outputs = fileExists("${work}/outputs.env") ?
        parseOutputs(readFile("${work}/outputs.env")) : [:]
    String message = fileExists("${work}/message.txt") ? readFile("${work}/message.txt").trim() : ''
    Map result = [
        changed : outputs.CHANGED == 'true',
        prUrl   : outputs.PR_URL ?: '',
        prNumber: outputs.PR_NUMBER ?: '',
        result  : outputs.RESULT ?: 'error',
        commit  : outputs.COMMIT ?: '',
        exitCode: status,
        message : message,
        json    : fileExists("${work}/result.json") ? readFile("${work}/result.json") : '',
    ]
    if (status != 0 && opts.failOnError != false) {
        error("promoter ${command} failed (exit ${status}): ${message ?: 'see the log above'}")
    }
    return result
}
