package io.sparktensors.spark.functions;

import io.sparktensors.spark.ComputedColumns;
import io.sparktensors.spark.TensorColumns;
import io.sparktensors.spark.compat.ScalaCollections;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.expressions.Sha2;
import org.apache.spark.sql.catalyst.plans.logical.Aggregate;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.execution.datasources.v2.DataSourceV2Relation;
import org.apache.spark.sql.execution.datasources.v2.DataSourceV2ScanRelation;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.runtime.AbstractPartialFunction;

/**
 * The optimizer rule that moves {@code tensor_stats(data, dtype)} and {@code sha2(data, 256)} into the scan:
 * where a projection or aggregate (through filters) reads straight from a tensor table, and the function's
 * arguments are that table's own {@code data} and {@code dtype}, the function is replaced by the table's
 * computed column ({@code _stats}, {@code _sha256}), which the reader computes from its buffers. When nothing
 * else needs {@code data}, Spark then prunes it from the scan, and the bytes never become Spark rows. Any
 * other shape (data from a join, a union, another source) is left as it was: the function runs on rows.
 *
 * <p>The rule works at either of two points of the optimizer. Installed by the session extension, it runs
 * among the operator optimizations, before Spark pushes columns into the scan, on the table's relation: it
 * adds the computed column to the relation's output and lets Spark's own pruning do the rest. Installed by
 * {@link TensorFunctions#register} (a running session's optimizer cannot take new rules, but its extra
 * optimizations can), it runs after column pushdown, on the scan: it rebuilds the scan to read the computed
 * column and drop {@code data}. {@value ComputedColumns#ENABLED}{@code =false} turns it off.
 */
final class InScanColumns extends Rule<LogicalPlan> {

    @Override
    public LogicalPlan apply(LogicalPlan plan) {
        if (!"true".equalsIgnoreCase(SQLConf.get().getConfString(ComputedColumns.ENABLED, "true"))) {
            return plan;
        }
        return plan.transformUp(new AbstractPartialFunction<LogicalPlan, LogicalPlan>() {
            @Override
            public boolean isDefinedAt(LogicalPlan p) {
                return p instanceof Project || p instanceof Aggregate;
            }

            @Override
            public LogicalPlan apply(LogicalPlan p) {
                return rewrite(p);
            }
        });
    }

    /**
     * {@code node} (a projection or aggregate) reading its tensor table's computed columns, or itself. Between
     * the node and the table may stand filters and projections that only pick columns (Spark's column
     * pruning puts those under an aggregate).
     */
    private static LogicalPlan rewrite(LogicalPlan node) {
        List<LogicalPlan> between = new ArrayList<>(); // top down
        LogicalPlan leaf = node.children().head();
        while (leaf instanceof Filter || isPick(leaf)) {
            between.add(leaf);
            leaf = leaf.children().head();
        }
        Source source;
        if (leaf instanceof DataSourceV2Relation r && r.table() instanceof ComputedColumns.ComputingTable) {
            source = new Source(leaf.output(), r.metadataOutput(), null);
        } else if (leaf instanceof DataSourceV2ScanRelation s && s.scan() instanceof ComputedColumns.ComputingScan) {
            source = new Source(
                    leaf.output(), s.relation().metadataOutput(), s.scan().readSchema());
        } else {
            return node;
        }
        Optional<Attribute> data = source.attribute(TensorColumns.DATA);
        Optional<Attribute> dtype = source.attribute(TensorColumns.DTYPE);
        if (data.isEmpty()) {
            return node;
        }
        Replacer replacer = new Replacer(data.get(), dtype.orElse(null), source);
        LogicalPlan newNode = (LogicalPlan) node.transformExpressionsDown(replacer);
        List<LogicalPlan> newBetween = new ArrayList<>();
        for (LogicalPlan p : between) {
            newBetween.add(p instanceof Filter ? (LogicalPlan) p.transformExpressionsDown(replacer) : p);
        }
        if (replacer.used.isEmpty()) {
            return node;
        }
        // data is still needed when the node or a filter reads it; projections between only pass it on.
        boolean dataNeeded = newNode.references().contains(data.get())
                || newBetween.stream()
                        .anyMatch(p -> p instanceof Filter && p.references().contains(data.get()));
        List<AttributeReference> computed = new ArrayList<>();
        replacer.used.forEach(name -> computed.add(source.computed(name).orElseThrow()));
        LogicalPlan plan = leaf instanceof DataSourceV2Relation
                ? withOutput(leaf, source, computed)
                : withScan((DataSourceV2ScanRelation) leaf, source, computed, dataNeeded);
        for (int i = newBetween.size() - 1; i >= 0; i--) {
            LogicalPlan p = newBetween.get(i);
            plan = p instanceof Project pick
                    ? new Project(passing(pick, computed, dataNeeded ? null : data.get()), plan)
                    : p.withNewChildren(ScalaCollections.toScalaList(List.of(plan)));
        }
        return newNode.withNewChildren(ScalaCollections.toScalaList(List.of(plan)));
    }

    /** A projection that only picks columns. */
    private static boolean isPick(LogicalPlan p) {
        return p instanceof Project project
                && ScalaCollections.asJava(project.projectList()).stream().allMatch(e -> e instanceof Attribute);
    }

    /** A picking projection's columns, passing the computed columns too, and dropping {@code drop}. */
    private static scala.collection.immutable.List<org.apache.spark.sql.catalyst.expressions.NamedExpression> passing(
            Project pick, List<AttributeReference> computed, Attribute drop) {
        List<org.apache.spark.sql.catalyst.expressions.NamedExpression> out = new ArrayList<>();
        for (var e : ScalaCollections.asJava(pick.projectList())) {
            if (drop == null || !e.exprId().equals(drop.exprId())) {
                out.add(e);
            }
        }
        for (AttributeReference a : computed) {
            if (out.stream().noneMatch(e -> e.exprId().equals(a.exprId()))) {
                out.add(a);
            }
        }
        return ScalaCollections.toScalaList(out);
    }

    /** Before column pushdown: the relation, also giving the computed columns used. */
    private static LogicalPlan withOutput(LogicalPlan relation, Source source, List<AttributeReference> computed) {
        List<AttributeReference> output = new ArrayList<>(source.output);
        for (AttributeReference a : computed) {
            if (source.inOutput(a.name()).isEmpty()) {
                output.add(a);
            }
        }
        return copy(relation, 1, ScalaCollections.toScalaList(output));
    }

    /** After column pushdown: the scan rebuilt to read the computed columns, and {@code data} only if needed. */
    private static LogicalPlan withScan(
            DataSourceV2ScanRelation scan, Source source, List<AttributeReference> computed, boolean dataNeeded) {
        List<AttributeReference> output = new ArrayList<>();
        List<StructField> fields = new ArrayList<>();
        for (AttributeReference a : source.output) {
            if (a.name().equals(TensorColumns.DATA) && !dataNeeded) {
                continue;
            }
            output.add(a);
            fields.add(source.readSchema.fields()[source.readSchema.fieldIndex(a.name())]);
        }
        for (AttributeReference a : computed) {
            if (source.inOutput(a.name()).isEmpty()) {
                output.add(a);
                fields.add(ComputedColumns.field(a.name()));
            }
        }
        var newScan = ((ComputedColumns.ComputingScan) scan.scan())
                .withReadSchema(new StructType(fields.toArray(new StructField[0])));
        LogicalPlan withNewScan = copy(scan, 1, newScan);
        return copy(withNewScan, 2, ScalaCollections.toScalaList(output));
    }

    /** A copy of a plan node with constructor argument {@code index} replaced (the arguments differ by Spark line). */
    private static LogicalPlan copy(LogicalPlan node, int index, Object value) {
        Object[] args = new Object[node.productArity()];
        for (int i = 0; i < args.length; i++) {
            args[i] = i == index ? value : node.productElement(i);
        }
        return node.makeCopy(args);
    }

    /** The tensor table's columns as the plan sees them. */
    private static final class Source {
        final List<AttributeReference> output = new ArrayList<>();
        final List<AttributeReference> metadata;
        /** The scan's columns, after pushdown; null before. */
        final StructType readSchema;

        Source(
                scala.collection.Seq<Attribute> output,
                scala.collection.Seq<AttributeReference> metadata,
                StructType readSchema) {
            for (Attribute a : ScalaCollections.asJava(output)) {
                this.output.add((AttributeReference) a);
            }
            this.metadata = ScalaCollections.asJava(metadata);
            this.readSchema = readSchema;
        }

        Optional<Attribute> attribute(String name) {
            return output.stream()
                    .filter(a -> a.name().equals(name))
                    .map(a -> (Attribute) a)
                    .findFirst();
        }

        Optional<AttributeReference> inOutput(String name) {
            return output.stream().filter(a -> a.name().equals(name)).findFirst();
        }

        /** The attribute of computed column {@code name}, if it has the column's full type here. */
        Optional<AttributeReference> computed(String name) {
            Optional<AttributeReference> present = inOutput(name);
            if (present.isPresent()) {
                return present.get()
                                .dataType()
                                .equals(ComputedColumns.field(name).dataType())
                        ? present
                        : Optional.empty(); // pruned to the fields another expression reads: leave it be
            }
            return metadata.stream().filter(a -> a.name().equals(name)).findFirst();
        }
    }

    /** Replaces the two functions over the table's own columns by the computed columns' attributes. */
    private static final class Replacer extends AbstractPartialFunction<Expression, Expression> {
        private final Attribute data;
        private final Attribute dtype;
        private final Source source;
        final Set<String> used = new TreeSet<>();

        Replacer(Attribute data, Attribute dtype, Source source) {
            this.data = data;
            this.dtype = dtype;
            this.source = source;
        }

        private String column(Expression e) {
            if (e instanceof TensorStatsExpression
                    && dtype != null
                    && e.children().apply(0).semanticEquals(data)
                    && e.children().apply(1).semanticEquals(dtype)) {
                return ComputedColumns.STATS;
            }
            if (e instanceof Sha2 sha
                    && sha.left().semanticEquals(data)
                    && sha.right() instanceof Literal bits
                    && bits.value() instanceof Integer n
                    && (n == 256 || n == 0)) {
                return ComputedColumns.SHA256;
            }
            return null;
        }

        @Override
        public boolean isDefinedAt(Expression e) {
            String column = column(e);
            return column != null && source.computed(column).isPresent();
        }

        @Override
        public Expression apply(Expression e) {
            String column = column(e);
            used.add(column);
            return source.computed(column).orElseThrow();
        }
    }
}
