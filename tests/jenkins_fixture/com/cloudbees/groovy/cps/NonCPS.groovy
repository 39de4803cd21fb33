package com.cloudbees.groovy.cps

import java.lang.annotation.ElementType
import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy
import java.lang.annotation.Target

// Stand-in for Jenkins' annotation (workflow-cps), so that the step compiles
// outside Jenkins exactly as a shared library does: Jenkins imports it
// implicitly in every Pipeline script.
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface NonCPS {}
