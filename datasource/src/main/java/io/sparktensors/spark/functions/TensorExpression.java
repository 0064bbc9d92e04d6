package io.sparktensors.spark.functions;

import io.sparktensors.errors.TensorErrors;
import io.sparktensors.format.DType;
import io.sparktensors.spark.compat.ScalaCollections;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenContext;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenFallback;
import org.apache.spark.sql.catalyst.expressions.codegen.ExprCode;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * A scalar tensor function: evaluates its arguments, returns null when one is null, and otherwise computes
 * from their values. The per-element work lives in {@link io.sparktensors.analysis}; this class is only
 * the Catalyst plumbing (interpreted: the work per row is a loop over a tensor, not worth generating).
 */
abstract class TensorExpression extends CatalystExpression implements CodegenFallback, java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final Expression[] args;

    TensorExpression(Expression... args) {
        this.args = args.clone();
    }

    /** The result for non-null argument values. */
    abstract Object compute(Object[] values);

    /** A copy of this function over other arguments. */
    abstract TensorExpression copy(Expression[] newArgs);

    /** The function's SQL name, for messages. */
    abstract String name();

    @Override
    public scala.collection.immutable.List<Expression> children() {
        return ScalaCollections.toScalaList(Arrays.asList(args));
    }

    @Override
    public boolean nullable() {
        return true;
    }

    @Override
    public Object eval(InternalRow input) {
        Object[] values = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
            values[i] = args[i].eval(input);
            if (values[i] == null) {
                return null;
            }
        }
        return compute(values);
    }

    @Override
    public ExprCode doGenCode(CodegenContext ctx, ExprCode ev) {
        return CodegenFallback.super.doGenCode(ctx, ev);
    }

    @Override
    Expression withChildren(List<Expression> newChildren) {
        return copy(newChildren.toArray(new Expression[0]));
    }

    @Override
    public int productArity() {
        return args.length;
    }

    @Override
    public Object productElement(int n) {
        return args[n];
    }

    @Override
    public boolean canEqual(Object that) {
        return that != null && that.getClass() == getClass();
    }

    @Override
    public String prettyName() {
        return name();
    }

    /** A dtype argument's value, or a clear error naming the function. */
    DType dtype(Object value) {
        String code = ((UTF8String) value).toString();
        DType d = DType.fromCode(code);
        if (d == null) {
            throw TensorErrors.function(
                    name(), "unknown dtype '" + code + "'", "Use a safetensors dtype code such as F32 or BF16");
        }
        return d;
    }
}
