package io.sparktensors.examples.cli;

import java.util.stream.Collectors;

/** The usage text and the README's command table, both made from the {@link Commands}' declarations. */
public final class Usage {
    private static final int WIDTH = 110;
    private static final String INDENT = "      ";
    /** Where a synopsis may break: before a flag. */
    private static final String FLAG = " (?=\\[)";

    private Usage() {}

    /** {@code spark-tensors --help}: every command's synopsis and summary. */
    public static String text() {
        StringBuilder sb = new StringBuilder("usage: spark-tensors <command> [arguments] [flags] [--verbose]\n\n");
        for (Command c : Commands.all()) {
            sb.append(wrap("  ", c.synopsis(), FLAG, INDENT)).append(wrap(INDENT, c.summary(), " ", INDENT));
        }
        return sb.append("\n--verbose (anywhere) shows Spark's log and the full stack trace of an error.\n")
                .append("'spark-tensors help <command>' (or '<command> --help') describes a command's flags;\n")
                .append("'spark-tensors help --markdown' prints the command table in Markdown.\n")
                .toString();
    }

    /** {@code spark-tensors help <command>}: its synopsis, summary and flags with their defaults. */
    public static String text(Command c) {
        StringBuilder sb = new StringBuilder(wrap("usage: spark-tensors ", c.synopsis(), FLAG, INDENT));
        sb.append('\n').append(wrap("", c.summary(), " ", ""));
        if (!c.flags().isEmpty()) {
            int width =
                    c.flags().stream().mapToInt(f -> f.usage().length()).max().orElse(0);
            sb.append('\n');
            for (Flag f : c.flags()) {
                sb.append(String.format(
                        "  %-" + width + "s  %s%s%n",
                        f.usage(),
                        f.helpWithDefault(),
                        f.repeatable() ? " (repeatable)" : ""));
            }
        }
        return sb.toString();
    }

    /** The command table for the README and docs: synopsis, what it does, flags. */
    public static String markdown() {
        StringBuilder sb = new StringBuilder("| Command | What it does | Flags |\n|---|---|---|\n");
        for (Command c : Commands.all()) {
            String synopsis = String.join(" ", c.name(), String.join(" ", c.positionals()))
                    .strip();
            String flags = c.flags().stream()
                    .map(f -> "`" + f.usage() + "`" + (f.repeatable() ? "..." : "") + ": " + f.helpWithDefault())
                    .collect(Collectors.joining("<br>"));
            sb.append("| `spark-tensors ")
                    .append(synopsis)
                    .append("` | ")
                    .append(cell(c.summary()))
                    .append(" | ")
                    .append(cell(flags))
                    .append(" |\n");
        }
        return sb.toString();
    }

    private static String cell(String text) {
        return text.replace("|", "\\|");
    }

    /**
     * {@code text} after {@code first}, broken where it passes the width at a match of {@code breaks} (before a
     * flag, or at a space); continuation lines start with {@code indent}.
     */
    private static String wrap(String first, String text, String breaks, String indent) {
        StringBuilder sb = new StringBuilder();
        StringBuilder line = new StringBuilder(first);
        int start = line.length();
        for (String word : text.split(breaks)) {
            if (line.length() > start && line.length() + 1 + word.length() > WIDTH) {
                sb.append(line).append('\n');
                line = new StringBuilder(indent);
                start = line.length();
            } else if (line.length() > start) {
                line.append(' ');
            }
            line.append(word);
        }
        return sb.append(line).append('\n').toString();
    }
}
