package io.sparktensors.spark.functions;

import io.sparktensors.spark.compat.ScalaCollections;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.Expression;

/**
 * Catalyst's {@code withNewChildrenInternal} for Scala 2.12, whose parameter is {@code scala.collection.IndexedSeq}; the functions
 * implement {@link #withChildren} on a Java list instead. One of two copies (src/main/scala-2.12, -2.13).
 */
abstract class CatalystExpression extends Expression {
    private static final long serialVersionUID = 1L;

    /** A copy of this expression over other children. */
    abstract Expression withChildren(List<Expression> children);

    @Override
    public Expression withNewChildrenInternal(scala.collection.IndexedSeq<Expression> newChildren) {
        return withChildren(ScalaCollections.asJava(newChildren));
    }
}
