package io.sparktensors.spark.functions;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.rules.Rule;
import scala.Tuple3;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * {@code spark.sql.extensions=io.sparktensors.spark.functions.TensorExtensions}: every session started with
 * this setting has the tensor functions (see {@link TensorFunctions}), and the optimizer rule that computes
 * {@code tensor_stats(data, dtype)} and {@code sha2(data, 256)} of a tensor scan inside the scan
 * ({@link InScanColumns}).
 */
public final class TensorExtensions extends AbstractFunction1<SparkSessionExtensions, BoxedUnit> {

    @Override
    public BoxedUnit apply(SparkSessionExtensions extensions) {
        for (TensorFunctions.Definition d : TensorFunctions.DEFINITIONS) {
            extensions.injectFunction(new Tuple3<>(
                    new org.apache.spark.sql.catalyst.FunctionIdentifier(d.name()),
                    TensorFunctions.info(d),
                    TensorFunctions.builder(d)));
        }
        extensions.injectOptimizerRule(new AbstractFunction1<SparkSession, Rule<LogicalPlan>>() {
            @Override
            public Rule<LogicalPlan> apply(SparkSession session) {
                return new InScanColumns();
            }
        });
        return BoxedUnit.UNIT;
    }
}
