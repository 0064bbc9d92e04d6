package io.sparktensors.examples.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The usage text and the README's command table, both made from the {@link Commands}' declarations. */
public final class Usage {
  private static final int WIDTH = 110;
  private static final String INDENT = "      ";

  private Usage() {}

  /** {@code spark-tensors --help}: every command's synopsis and summary. */
  public static String text() {
    StringBuilder sb = new StringBuilder("usage: spark-tensors <command> [arguments] [flags] [--verbose]\n\n");
    for (Command c : Commands.all()) {
      sb.append(wrap("  " + c.synopsis(), INDENT)).append(INDENT).append(c.summary()).append('\n');
    }
    return sb.append("\n--verbose (anywhere) shows Spark's log and the full stack trace of an error.\n")
        .append("'spark-tensors help <command>' (or '<command> --help') describes a command's flags;\n")
        .append("'spark-tensors help --markdown' prints the command table in Markdown.\n").toString();
  }

  /** {@code spark-tensors help <command>}: its synopsis, summary and flags with their defaults. */
  public static String text(Command c) {
    StringBuilder sb = new StringBuilder(wrap("usage: spark-tensors " + c.synopsis(), INDENT));
    sb.append('\n').append(c.summary()).append('\n');
    if (!c.flags().isEmpty()) {
      int width = c.flags().stream().mapToInt(f -> f.usage().length()).max().orElse(0);
      sb.append('\n');
      for (Flag f : c.flags()) {
        sb.append(String.format("  %-" + width + "s  %s%s%n", f.usage(), f.helpWithDefault(),
            f.repeatable() ? " (repeatable)" : ""));
      }
    }
    return sb.toString();
  }

  /** The command table for the README and docs: synopsis, what it does, flags. */
  public static String markdown() {
    StringBuilder sb = new StringBuilder("| Command | What it does | Flags |\n|---|---|---|\n");
    for (Command c : Commands.all()) {
      String synopsis = String.join(" ", c.name(), String.join(" ", c.positionals())).strip();
      String flags = c.flags().stream()
          .map(f -> "`" + f.usage() + "`" + (f.repeatable() ? "..." : "") + " " + f.helpWithDefault())
          .collect(Collectors.joining("<br>"));
      sb.append("| `spark-tensors ").append(synopsis).append("` | ").append(cell(c.summary())).append(" | ")
          .append(cell(flags)).append(" |\n");
    }
    return sb.toString();
  }

  private static String cell(String text) {
    return text.replace("|", "\\|");
  }

  /** {@code line} broken before a flag where it passes the width; continuation lines start with {@code indent}. */
  private static String wrap(String line, String indent) {
    List<String> lines = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String word : line.split(" (?=\\[)")) {
      if (current.length() > 0 && current.length() + 1 + word.length() > WIDTH) {
        lines.add(current.toString());
        current = new StringBuilder(indent);
      } else if (current.length() > 0) {
        current.append(' ');
      }
      current.append(word);
    }
    lines.add(current.toString());
    return String.join("\n", lines) + "\n";
  }
}
