package io.sparktensors.examples.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A command's arguments, parsed against the flags and positional arguments it declares. Every mistake is an
 * {@link IllegalArgumentException} that names the flag or argument: an unknown flag, a flag without its value,
 * a single flag given twice, too few or too many positional arguments, a value that does not parse.
 */
public final class Args {
    private final Command command;
    private final Map<String, List<String>> values;
    private final List<String> positionals;

    private Args(Command command, Map<String, List<String>> values, List<String> positionals) {
        this.command = command;
        this.values = values;
        this.positionals = positionals;
    }

    /**
     * Parses {@code args} for {@code command}. Flags may come before, between or after the positional
     * arguments; {@code --name=value} is the same as {@code --name value}; after {@code --} everything is
     * positional (a path that starts with a dash).
     */
    public static Args parse(Command command, List<String> args) {
        Map<String, Flag> flags = new HashMap<>();
        command.flags().forEach(f -> flags.put(f.name(), f));
        Map<String, List<String>> values = new LinkedHashMap<>();
        List<String> positionals = new ArrayList<>();
        boolean onlyPositionals = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (onlyPositionals || !arg.startsWith("-") || arg.equals("-")) {
                positionals.add(arg);
                continue;
            }
            if (arg.equals("--")) {
                onlyPositionals = true;
                continue;
            }
            int eq = arg.indexOf('=');
            String name = eq > 0 ? arg.substring(0, eq) : arg;
            Flag flag = flags.get(name);
            if (flag == null) {
                throw new IllegalArgumentException("unknown flag " + name + " for " + command.name());
            }
            List<String> given = values.computeIfAbsent(name, k -> new ArrayList<>());
            if (!given.isEmpty() && !flag.repeatable()) {
                throw new IllegalArgumentException(name + " is given more than once");
            }
            if (flag.isSwitch()) {
                if (eq > 0) {
                    throw new IllegalArgumentException(name + " takes no value");
                }
                given.add("true");
            } else if (eq > 0) {
                given.add(arg.substring(eq + 1));
            } else if (i + 1 < args.size()) {
                given.add(args.get(++i));
            } else {
                throw new IllegalArgumentException(name + " needs a value: " + flag.usage());
            }
        }
        List<String> expected = command.positionals();
        if (positionals.size() != expected.size()) {
            throw new IllegalArgumentException(
                    positionals.size() < expected.size()
                            ? command.name() + " needs "
                                    + String.join(" ", expected.subList(positionals.size(), expected.size()))
                            : command.name() + " takes "
                                    + (expected.isEmpty() ? "no arguments" : String.join(" ", expected)) + ", got "
                                    + String.join(" ", positionals));
        }
        return new Args(command, values, List.copyOf(positionals));
    }

    /** The positional argument at {@code index} (their number is checked by {@link #parse}). */
    public String positional(int index) {
        return positionals.get(index);
    }

    /** Whether the switch (or flag) was given. */
    public boolean has(String name) {
        return !all(name).isEmpty();
    }

    /** The flag's value, or its default (null when it has none). */
    public String get(String name) {
        List<String> given = all(name);
        return given.isEmpty() ? declared(name).defaultValue() : given.get(0);
    }

    /** The flag's value (or default) parsed by {@code parser}; a value that does not parse names the flag. */
    public <T> T get(String name, Function<String, T> parser) {
        String value = get(name);
        return value == null ? null : parse(name, value, parser);
    }

    /** Every value of a repeatable flag, in order. */
    public List<String> all(String name) {
        declared(name);
        return values.getOrDefault(name, List.of());
    }

    /** Every {@code KEY=VALUE} of a repeatable flag, as a map (a later key wins). */
    public Map<String, String> keyValues(String name) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String kv : all(name)) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(name + " takes KEY=VALUE, got '" + kv + "'");
            }
            map.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return map;
    }

    /** {@code parser} applied to a value of {@code name}, its failure turned into a message that names the flag. */
    static <T> T parse(String name, String value, Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) {
            String why = e instanceof NumberFormatException || e.getMessage() == null ? "" : ": " + e.getMessage();
            throw new IllegalArgumentException("bad value '" + value + "' for " + name + why, e);
        }
    }

    private Flag declared(String name) {
        return command.flags().stream()
                .filter(f -> f.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(command.name() + " declares no flag " + name));
    }
}
