-- Notebook questions about a checkpoint, in SQL. The view `ckpt` is the checkpoint's tensor table:
--   CREATE TEMPORARY VIEW ckpt USING tensors OPTIONS (path '/models/llama');
-- and the functions come from spark.sql.extensions=io.sparktensors.spark.functions.TensorExtensions.
-- `spark-tensors analyze PATH` runs this file on PATH; each statement prints one table.

-- How many parameters per layer and dtype?
SELECT coalesce(regexp_extract(name, '\\.(?:layers|h)\\.(\\d+)\\.', 1), '') AS layer, dtype,
       count(*) AS tensors, sum(aggregate(shape, 1L, (a, d) -> a * d)) AS parameters
FROM ckpt WHERE chunk = 0 GROUP BY 1, 2 ORDER BY length(layer), layer, dtype;

-- Which tensors hold NaN or Inf?
SELECT name, s.nans, s.infs FROM (
  SELECT name, tensor_stats_merge(tensor_stats(data, dtype)) AS s FROM ckpt GROUP BY name)
WHERE s.nans > 0 OR s.infs > 0 ORDER BY name;

-- How do the weight norms run across depth?
SELECT cast(regexp_extract(name, '\\.(?:layers|h)\\.(\\d+)\\.', 1) AS int) AS layer,
       round(sqrt(sum(s.l2 * s.l2)), 4) AS l2, round(avg(s.std), 6) AS mean_std
FROM (SELECT name, tensor_stats_merge(tensor_stats(data, dtype)) AS s FROM ckpt GROUP BY name)
WHERE regexp_extract(name, '\\.(?:layers|h)\\.(\\d+)\\.', 1) != '' GROUP BY 1 ORDER BY 1;

-- Would converting the BF16 tensors to F16 be lossless? (Round trip BF16 -> F16 -> BF16, value by value.)
SELECT name, d.count, d.differing, d.max_rel FROM (
  SELECT name, tensor_diff_stats(data, tensor_cast(tensor_cast(data, dtype, 'F16'), 'F16', dtype), dtype) AS d
  FROM ckpt WHERE dtype = 'BF16')
WHERE d.differing > 0 ORDER BY d.differing DESC, name LIMIT 10;

-- The largest embedding rows by norm (an embedding table as rows).
SELECT index, round(sqrt(aggregate(vector, 0D, (a, v) -> a + v * v)), 4) AS norm FROM (
  SELECT tensor_rows(data, dtype, shape, chunk_start) FROM ckpt WHERE name LIKE '%embed_tokens.weight')
ORDER BY norm DESC, index LIMIT 5;
