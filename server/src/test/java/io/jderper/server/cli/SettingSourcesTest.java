package io.jderper.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The generic part of the configuration sources: any declared flag, even one added later, is read from the
 * environment and a config file without code of its own, and remembers where its value came from.
 */
class SettingSourcesTest
{
    /** A flag the parser has never heard of, as another branch may add one. */
    private static GoFlags newFlags()
    {
        return new GoFlags()
            .declare("metrics-addr", GoFlags.Kind.VALUE)
            .declare("brand-new-switch", GoFlags.Kind.BOOLEAN)
            .declare("idle", GoFlags.Kind.VALUE);
    }

    private static SettingSource fixed(final String name, final String value, final String origin)
    {
        return flag -> flag.equals(name) ? Optional.of(new SettingSource.Setting(value, origin)) :
            Optional.empty();
    }

    @Test
    void shouldReadANewlyDeclaredFlagFromTheEnvironmentUnderItsGenericName()
    {
        final GoFlags flags = newFlags().parse(new String[0]).fallBackTo(List.of(new EnvironmentSettings(Map.of(
            "DERP_METRICS_ADDR", ":9090", "DERP_BRAND_NEW_SWITCH", "1", "DERP_IDLE", "1m30s"))));

        assertThat(flags.string("metrics-addr", "")).isEqualTo(":9090");
        assertThat(flags.origin("metrics-addr")).isEqualTo("env DERP_METRICS_ADDR");
        assertThat(flags.bool("brand-new-switch", false)).isTrue();
        assertThat(flags.duration("idle", Duration.ZERO)).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void shouldPreferTheCommandLineThenTheSourcesInTheirOrder()
    {
        final GoFlags flags = newFlags().parse(new String[] {"-metrics-addr", ":1"}).fallBackTo(List.of(
            fixed("idle", "2s", "first"), fixed("idle", "3s", "second"), fixed("metrics-addr", ":2", "first")));

        assertThat(flags.string("metrics-addr", "")).isEqualTo(":1");
        assertThat(flags.origin("metrics-addr")).isEqualTo(GoFlags.FROM_FLAG);
        assertThat(flags.duration("idle", Duration.ZERO)).isEqualTo(Duration.ofSeconds(2));
        assertThat(flags.origin("idle")).isEqualTo("first");
        assertThat(flags.isSet("idle")).as("a value from a source counts as set").isTrue();
        assertThat(flags.origin("brand-new-switch")).isEqualTo(GoFlags.FROM_DEFAULT);
    }

    @Test
    void shouldReportTheDefaultAnAccessorWasAskedWith()
    {
        final GoFlags flags = newFlags().parse(new String[0]);
        flags.duration("idle", Duration.ofMinutes(10));
        flags.bool("brand-new-switch", true);

        assertThat(flags.effective("idle")).contains("10m0s");
        assertThat(flags.effective("brand-new-switch")).contains("true");
        assertThat(flags.effective("metrics-addr")).as("never asked for").isEmpty();
    }

    @Test
    void shouldNameTheVariableOfAMalformedBoolean()
    {
        assertThatThrownBy(() -> newFlags().parse(new String[0])
            .fallBackTo(List.of(new EnvironmentSettings(Map.of("DERP_BRAND_NEW_SWITCH", "yes")))))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("invalid boolean value \"yes\" for -brand-new-switch: parse error " +
                "(-brand-new-switch is from env DERP_BRAND_NEW_SWITCH)");
    }

    @Test
    void shouldNameTheVariableOfAMalformedValueWhenItIsRead()
    {
        final GoFlags flags = newFlags().parse(new String[0])
            .fallBackTo(List.of(new EnvironmentSettings(Map.of("DERP_IDLE", "10"))));

        assertThatThrownBy(() -> flags.explain(() -> flags.duration("idle", Duration.ZERO)))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("invalid value \"10\" for flag -idle: invalid duration \"10\" (-idle is from env DERP_IDLE)");
    }

    @Test
    void shouldNotNoteTheOriginOfAFlagWhoseNameIsOnlyPartOfAnother()
    {
        final GoFlags flags = new GoFlags().declare("stun", GoFlags.Kind.BOOLEAN)
            .declare("stun-port", GoFlags.Kind.VALUE).parse(new String[0])
            .fallBackTo(List.of(new EnvironmentSettings(Map.of("DERP_STUN", "true"))));

        assertThatThrownBy(() -> flags.explain(() ->
        {
            throw new GoFlags.FlagException("-stun-port is bad");
        })).hasMessage("-stun-port is bad");
    }

    @ParameterizedTest
    @CsvSource({"0, 0s", "500, 500ms", "2000, 2s", "1500, 1.5s", "600000, 10m0s", "3723000, 1h2m3s",
        "-2000, -2s"})
    void shouldFormatDurationsAsGoDoes(final long millis, final String expected)
    {
        assertThat(GoFlags.formatDuration(Duration.ofMillis(millis))).isEqualTo(expected);
        assertThat(GoFlags.parseDuration(expected)).isEqualTo(Duration.ofMillis(millis));
    }
}
