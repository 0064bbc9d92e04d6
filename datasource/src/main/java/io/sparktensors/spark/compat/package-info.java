/**
 * The compatibility seam between the Spark lines and Scala versions the library runs on (Spark 3.5 with Scala
 * 2.12 or 2.13, Spark 4 with Scala 2.13): Scala collections from Java, and the internals that moved. What no
 * single source can express (a Catalyst method whose parameter is a Scala 2.12 or 2.13 collection type) lives
 * in {@code src/main/scala-2.12} and {@code src/main/scala-2.13}, one small base class each, selected by the
 * build.
 *
 * <p>May import: Spark, Scala.
 */
package io.sparktensors.spark.compat;
