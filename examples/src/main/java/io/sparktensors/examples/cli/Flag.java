package io.sparktensors.examples.cli;

/**
 * One flag of a command, as its help shows it: {@code --name VALUE} (or a bare switch when {@code value} is
 * null), its default, and one line of help.
 *
 * @param name the flag with its dashes, e.g. {@code --max-shard-size}
 * @param value the placeholder of its value, e.g. {@code 5GB} or {@code KEY=VALUE}; null for a switch
 * @param defaultValue the value when the flag is not given; null for none
 * @param help one line: what it does
 * @param repeatable whether it may be given more than once (each value is kept)
 */
public record Flag(String name, String value, String defaultValue, String help, boolean repeatable) {

    public Flag {
        if (!name.startsWith("--")) {
            throw new IllegalArgumentException("a flag starts with --: " + name);
        }
    }

    /** A switch: present or not. */
    public static Flag bool(String name, String help) {
        return new Flag(name, null, null, help, false);
    }

    /** A flag with one value, or {@code defaultValue} (may be null) when absent. */
    public static Flag value(String name, String value, String defaultValue, String help) {
        return new Flag(name, value, defaultValue, help, false);
    }

    /** A flag that may be given any number of times. */
    public static Flag repeated(String name, String value, String help) {
        return new Flag(name, value, null, help, true);
    }

    public boolean isSwitch() {
        return value == null;
    }

    /** How the synopsis shows it: {@code [--json]}, {@code [--format F]}, {@code [--option KEY=VALUE]...}. */
    public String synopsis() {
        return "[" + usage() + "]" + (repeatable ? "..." : "");
    }

    /** {@code --name VALUE}, or {@code --name} for a switch. */
    public String usage() {
        return isSwitch() ? name : name + " " + value;
    }

    /** The help line with the default, if any. */
    public String helpWithDefault() {
        return defaultValue == null ? help : help + " (default " + defaultValue + ")";
    }
}
