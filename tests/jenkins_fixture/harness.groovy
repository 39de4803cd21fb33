// Runs the shared-library step vars/promoter.groovy outside Jenkins, the way
// JenkinsPipelineUnit does: the Jenkins steps it calls (sh, withEnv,
// withCredentials, error, …) are closures in the script's binding. `sh` really
// runs bash, so the step's shell side (resources/promoter/run.sh) runs too.
//
//   groovy -cp tests/jenkins_fixture harness.groovy LIBRARY_DIR WORKSPACE SCENARIOS_JSON
//
// SCENARIOS_JSON: [{"step": "bump", "options": {…}, "credentials": {"id": "secret"}}, …]
// Prints one JSON line per scenario: {"returned": …, "error": …, "calls": […]}.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer

class StepError extends RuntimeException {
    StepError(String message) { super(message) }
}

File library = new File(args[0])
File workspace = new File(args[1])
List scenarios = new JsonSlurper().parse(new File(args[2])) as List

scenarios.each { Map scenario ->
    List calls = []
    List<Map<String, String>> envStack = []
    Map<String, String> credentials = (scenario.credentials ?: [:]) as Map<String, String>

    def binding = new Binding()
    binding.setVariable('pwd', { Map m ->
        calls << [step: 'pwd', args: m]
        File dir = new File(workspace.path + (m?.tmp ? '@tmp' : ''))
        dir.mkdirs()
        dir.path
    })
    binding.setVariable('libraryResource', { String name ->
        calls << [step: 'libraryResource', args: name]
        new File(library, "resources/${name}").text
    })
    binding.setVariable('writeFile', { Map m ->
        calls << [step: 'writeFile', args: m.file]
        File f = new File(m.file as String)
        f.parentFile.mkdirs()
        f.text = m.text
    })
    binding.setVariable('readFile', { String path -> new File(path).text })
    binding.setVariable('fileExists', { String path -> new File(path).exists() })
    binding.setVariable('error', { String message ->
        calls << [step: 'error', args: message]
        throw new StepError(message)
    })
    binding.setVariable('string', { Map m -> [kind: 'string'] + m })
    binding.setVariable('withEnv', { List vars, Closure body ->
        calls << [step: 'withEnv', args: vars.collect { it as String }]
        Map<String, String> layer = [:]
        vars.each { String v -> int at = v.indexOf('='); layer[v.substring(0, at)] = v.substring(at + 1) }
        envStack << layer
        try { body() } finally { envStack.remove(envStack.size() - 1) }
    })
    binding.setVariable('withCredentials', { List bindings, Closure body ->
        calls << [step: 'withCredentials', args: bindings]
        Map<String, String> layer = [:]
        bindings.each { Map b ->
            if (!credentials.containsKey(b.credentialsId)) {
                throw new StepError("Could not find credentials entry with ID '${b.credentialsId}'")
            }
            layer[b.variable as String] = credentials[b.credentialsId]
        }
        envStack << layer
        try { body() } finally { envStack.remove(envStack.size() - 1) }
    })
    binding.setVariable('sh', { Map m ->
        Map<String, String> env = new HashMap<>(System.getenv())
        envStack.each { env.putAll(it) }
        calls << [step: 'sh', args: m, secretsInEnv: credentials.keySet().findAll { id ->
            env.values().contains(credentials[id])
        }.toList()]
        def pb = new ProcessBuilder(['bash', '-c', m.script as String]).directory(workspace)
        pb.environment().clear()
        pb.environment().putAll(env)
        pb.redirectErrorStream(true)
        def proc = pb.start()
        proc.inputStream.eachLine { System.err.println("[sh] ${it}") }
        int status = proc.waitFor()
        if (!m.returnStatus && status != 0) {
            throw new StepError("script returned exit code ${status}")
        }
        m.returnStatus ? status : null
    })

    def config = new CompilerConfiguration()
    config.addCompilationCustomizers(new ImportCustomizer().addImports('com.cloudbees.groovy.cps.NonCPS'))
    def shell = new GroovyShell(this.class.classLoader, binding, config)
    Script step = shell.parse(new File(library, 'vars/promoter.groovy'))

    Map outcome = [returned: null, error: null, calls: calls]
    try {
        String name = scenario.step as String
        Map options = (scenario.options ?: [:]) as Map
        outcome.returned = name == 'call' ? step.call(options) : step."${name}"(options)
    } catch (StepError err) {
        outcome.error = err.message
    }
    println JsonOutput.toJson(outcome)
}
