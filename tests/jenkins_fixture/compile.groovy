// Compiles Pipeline Groovy outside Jenkins, without running it:
//   groovy -cp tests/jenkins_fixture compile.groovy full FILE…    (shared-library vars: every
//       phase up to class generation, with Jenkins' implicit NonCPS import)
//   groovy -cp tests/jenkins_fixture compile.groovy parse FILE…          (a Jenkinsfile: syntax
//       only; its @Library and step names exist only inside Jenkins)
// Prints "ok FILE" per file; a problem is printed and the exit status is 1.
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.Phases
import org.codehaus.groovy.control.customizers.ImportCustomizer

def mode = args[0]
def files = args[1..-1]
int failed = 0
files.each { String path ->
    def config = new CompilerConfiguration()
    if (mode == 'full') {
        config.addCompilationCustomizers(new ImportCustomizer().addImports('com.cloudbees.groovy.cps.NonCPS'))
    }
    def unit = new CompilationUnit(config, null, new GroovyClassLoader(this.class.classLoader))
    unit.addSource(new File(path))
    try {
        unit.compile(mode == 'full' ? Phases.CLASS_GENERATION : Phases.CONVERSION)
        println "ok ${path}"
    } catch (Exception err) {
        failed++
        System.err.println("${path}: ${err.message}")
    }
}
System.exit(failed ? 1 : 0)
