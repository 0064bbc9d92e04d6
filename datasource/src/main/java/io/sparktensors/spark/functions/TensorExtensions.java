package io.sparktensors.spark.functions;

import org.apache.spark.sql.SparkSessionExtensions;
import scala.Tuple3;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * {@code spark.sql.extensions=io.sparktensors.spark.functions.TensorExtensions}: every session started with
 * this setting has the tensor functions (see {@link TensorFunctions}).
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
        return BoxedUnit.UNIT;
    }
}
