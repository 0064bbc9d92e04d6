/**
 * The storage seam: {@link io.sparktensors.io.InputFile} (length plus positioned reads), {@link
 * io.sparktensors.io.FileStore} (what paths, globs and folders hold, block locations), {@link
 * io.sparktensors.io.FolderFiles} (side files confined to a folder), output files. Local files and every
 * Hadoop file system (HDFS, S3A) behind one interface, so ranged reads stay ranged.
 *
 * <p>May import: {@code errors}, Hadoop's FileSystem API. Never {@code format}, {@code checkpoint} or Spark.
 */
package io.sparktensors.io;
