package io.sparktensors.examples.cli;

import java.util.List;
import java.util.Optional;

/** Every verb of {@code spark-tensors}, in the order the usage lists them. */
public final class Commands {
    private static final List<Command> ALL = List.of(
            new DemoCommand(),
            new InspectCommand(),
            new ConvertCommand(),
            new ReshardCommand(),
            new DiffCommand(),
            new AnalyzeCommand(),
            new ReportCommand(),
            new BenchReadCommand(),
            new BenchWriteCommand(),
            new BenchFunctionsCommand(),
            new BenchScaleCommand());

    private Commands() {}

    public static List<Command> all() {
        return ALL;
    }

    public static Optional<Command> find(String name) {
        return ALL.stream().filter(c -> c.name().equals(name)).findFirst();
    }
}
