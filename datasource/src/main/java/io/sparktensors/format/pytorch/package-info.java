/**
 * {@code torch.save} files (zip and legacy) through a restricted, purely symbolic unpickler: no global
 * resolves to code; tensors come only from torch's rebuild functions; strided and shared storages.
 *
 * <p>May import: {@code format}, {@code format.zip}, {@code io}, {@code errors}.
 */
package io.sparktensors.format.pytorch;
