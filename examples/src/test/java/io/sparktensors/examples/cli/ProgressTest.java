package io.sparktensors.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What the progress line says: bytes done of the total, the rate, the time left. */
class ProgressTest {

    @Test
    void aQuarterDoneAfterTwoSecondsHasSixSecondsLeft() {
        assertEquals(
                "[=====               ] 1.0 GB of 4.0 GB, 500.0 MB/s, 6 s left",
                Progress.line(4_000_000_000L, 10, 40, 2_000_000_000L));
    }

    @Test
    void doneShowsNoTimeLeft() {
        assertEquals(
                "[====================] 4.0 GB of 4.0 GB, 2.0 GB/s",
                Progress.line(4_000_000_000L, 40, 40, 2_000_000_000L));
    }

    @Test
    void sizesAndDurationsReadAsPeopleWriteThem() {
        assertEquals("999 B", Progress.bytes(999));
        assertEquals("1.5 MB", Progress.bytes(1_500_000));
        assertEquals("1m05s", Progress.duration(65));
        assertEquals("2h03m", Progress.duration(7380));
    }
}
