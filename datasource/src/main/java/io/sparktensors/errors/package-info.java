/**
 * The errors users see, built in one place: {@link io.sparktensors.errors.MalformedTensorFileException} for
 * a file that breaks its format (naming the file, the tensor and the fault), and factories ({@link
 * io.sparktensors.errors.TensorErrors}, {@link io.sparktensors.errors.WriteErrors}) that word every other
 * user error as "Cannot &lt;action&gt;: &lt;reason&gt;. &lt;fix&gt;".
 *
 * <p>May import: the JDK only. The bottom layer: every other package may use it.
 */
package io.sparktensors.errors;
