/**
 * torch.distributed saves as full tensors: {@code torch.distributed.checkpoint} (DCP) folders ({@code .metadata}
 * read through the PyTorch package's restricted unpickler), and per-rank {@code torch.save} files of DTensors (as
 * verl and SkyRL save them), each tensor assembled from the chunks its rank files hold.
 *
 * <p>May import: {@code format}, {@code format.pytorch}, {@code io}, {@code errors}.
 */
package io.sparktensors.format.dcp;
