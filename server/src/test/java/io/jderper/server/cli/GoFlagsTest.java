package io.jderper.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Go {@code flag} package syntax, as derper's users type it. Expected messages are the ones Go prints.
 */
class GoFlagsTest
{
    private static GoFlags flags()
    {
        return new GoFlags()
            .declare("a", GoFlags.Kind.VALUE)
            .declare("n", GoFlags.Kind.VALUE)
            .declare("d", GoFlags.Kind.VALUE)
            .declare("b", GoFlags.Kind.BOOLEAN)
            .declare("v", GoFlags.Kind.BOOLEAN);
    }

    private static GoFlags parse(final String... args)
    {
        return flags().parse(args);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-a", "--a"})
    void shouldTakeTheValueFromTheNextArgumentWithOneOrTwoDashes(final String flag)
    {
        final GoFlags flags = parse(flag, "v1");

        assertThat(flags.string("a", "fallback")).isEqualTo("v1");
        assertThat(flags.isSet("a")).isTrue();
        assertThat(flags.positional()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-a=v1", "--a=v1"})
    void shouldTakeTheValueAfterTheEqualsSignWithOneOrTwoDashes(final String arg)
    {
        final GoFlags flags = parse(arg, "rest");

        assertThat(flags.string("a", "fallback")).isEqualTo("v1");
        assertThat(flags.positional()).containsExactly("rest");
    }

    @Test
    void shouldKeepEverythingAfterTheFirstEqualsSignInTheValue()
    {
        assertThat(parse("-a=x=y").string("a", "")).isEqualTo("x=y");
    }

    @Test
    void shouldAcceptAnEmptyValueAfterTheEqualsSign()
    {
        final GoFlags flags = parse("-a=");

        assertThat(flags.isSet("a")).isTrue();
        assertThat(flags.string("a", "fallback")).isEmpty();
    }

    @Test
    void shouldAcceptAnEmptyValueAsTheNextArgument()
    {
        assertThat(parse("-a", "").string("a", "fallback")).isEmpty();
    }

    @Test
    void shouldTakeADashedNextArgumentAsTheValueAsGoDoes()
    {
        final GoFlags flags = parse("-a", "-b");

        assertThat(flags.string("a", "")).isEqualTo("-b");
        assertThat(flags.isSet("b")).isFalse();
    }

    @Test
    void shouldLetTheLastOccurrenceWin()
    {
        assertThat(parse("-a", "one", "-a=two").string("a", "")).isEqualTo("two");
    }

    @Test
    void shouldReturnTheFallbackForAFlagNotGiven()
    {
        final GoFlags flags = parse();

        assertThat(flags.isSet("a")).isFalse();
        assertThat(flags.given()).isEmpty();
        assertThat(flags.string("a", "fallback")).isEqualTo("fallback");
        assertThat(flags.bool("b", true)).isTrue();
        assertThat(flags.bool("b", false)).isFalse();
        assertThat(flags.integer("n", 42)).isEqualTo(42);
        assertThat(flags.duration("d", Duration.ofSeconds(7))).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void shouldListTheFlagsGivenInOrder()
    {
        assertThat(parse("-b", "-a", "x", "--v=false").given()).containsExactly("b", "a", "v");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-b", "--b"})
    void shouldSetABooleanGivenAlone(final String arg)
    {
        final GoFlags flags = parse(arg);

        assertThat(flags.isSet("b")).isTrue();
        assertThat(flags.bool("b", false)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "t", "T", "true", "TRUE", "True"})
    void shouldAcceptEveryTrueSpellingOfGoParseBool(final String value)
    {
        assertThat(parse("-b=" + value).bool("b", false)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "f", "F", "false", "FALSE", "False"})
    void shouldAcceptEveryFalseSpellingOfGoParseBool(final String value)
    {
        final GoFlags flags = parse("--b=" + value);

        assertThat(flags.isSet("b")).isTrue();
        assertThat(flags.bool("b", true)).isFalse();
    }

    @Test
    void shouldNotConsumeTheNextArgumentForABoolean()
    {
        final GoFlags flags = parse("-b", "false", "-v");

        assertThat(flags.bool("b", false)).as("-b false means -b plus a positional").isTrue();
        assertThat(flags.isSet("v")).as("parsing stopped at the positional").isFalse();
        assertThat(flags.positional()).containsExactly("false", "-v");
    }

    @ParameterizedTest
    @ValueSource(strings = {"maybe", "yes", "no", "", "tRUE", "2", "on"})
    void shouldRefuseABooleanValueGoRefuses(final String value)
    {
        assertThatThrownBy(() -> parse("-b=" + value))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("invalid boolean value \"" + value + "\" for -b");
    }

    @Test
    void shouldStopParsingAtDoubleDashAndDropIt()
    {
        final GoFlags flags = parse("-b", "--", "-v", "--", "x");

        assertThat(flags.isSet("v")).isFalse();
        assertThat(flags.positional()).containsExactly("-v", "--", "x");
    }

    @Test
    void shouldStopParsingAtTheFirstNonFlag()
    {
        final GoFlags flags = parse("-v", "file", "-b");

        assertThat(flags.isSet("v")).isTrue();
        assertThat(flags.isSet("b")).isFalse();
        assertThat(flags.positional()).containsExactly("file", "-b");
    }

    @Test
    void shouldTreatALoneDashAsPositional()
    {
        final GoFlags flags = parse("-", "-b");

        assertThat(flags.isSet("b")).isFalse();
        assertThat(flags.positional()).containsExactly("-", "-b");
    }

    @Test
    void shouldReturnACopyOfThePositionalArguments()
    {
        final GoFlags flags = parse("x");

        assertThatThrownBy(() -> flags.positional().add("y")).isInstanceOf(UnsupportedOperationException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-nope", "--nope", "-nope=1"})
    void shouldRefuseAnUnknownFlagWithGosMessage(final String arg)
    {
        assertThatThrownBy(() -> parse(arg))
            .isInstanceOf(GoFlags.FlagException.class)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("flag provided but not defined: -nope");
    }

    @Test
    void shouldRefuseAnUnknownFlagAfterKnownOnes()
    {
        assertThatThrownBy(() -> parse("-b", "-a", "x", "-nope"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("flag provided but not defined: -nope");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-a", "--a"})
    void shouldRefuseAValueFlagWithoutItsValue(final String arg)
    {
        assertThatThrownBy(() -> parse("-b", arg))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("flag needs an argument: -a");
    }

    @ParameterizedTest
    @ValueSource(strings = {"---a", "-=a", "--=a", "---"})
    void shouldRefuseBadFlagSyntax(final String arg)
    {
        assertThatThrownBy(() -> parse(arg))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("bad flag syntax: " + arg);
    }

    @Test
    void shouldParseIntegersAsGoDoesWithBaseZero()
    {
        assertThat(parse("-n", "80").integer("n", 0)).isEqualTo(80);
        assertThat(parse("-n=-1").integer("n", 0)).isEqualTo(-1);
        assertThat(parse("-n", "0x50").integer("n", 0)).isEqualTo(80);
        assertThat(parse("-n", "0").integer("n", 7)).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "", "80x", "1.5", "0x"})
    void shouldRefuseABadIntegerWithGosMessage(final String value)
    {
        final GoFlags flags = parse("-n", value);

        assertThatThrownBy(() -> flags.integer("n", 0))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("invalid value \"" + value + "\" for flag -n: parse error");
    }

    static Stream<Arguments> goDurations()
    {
        return Stream.of(
            Arguments.of("2s", Duration.ofSeconds(2)),
            Arguments.of("1m30s", Duration.ofSeconds(90)),
            Arguments.of("500ms", Duration.ofMillis(500)),
            Arguments.of("1.5h", Duration.ofMinutes(90)),
            Arguments.of("0", Duration.ZERO),
            Arguments.of("-0", Duration.ZERO),
            Arguments.of("+0", Duration.ZERO),
            Arguments.of("-1s", Duration.ofSeconds(-1)),
            Arguments.of("+5s", Duration.ofSeconds(5)),
            Arguments.of("0s", Duration.ZERO),
            Arguments.of("10ns", Duration.ofNanos(10)),
            Arguments.of("3us", Duration.ofNanos(3_000)),
            Arguments.of("3\u00b5s", Duration.ofNanos(3_000)),
            Arguments.of("1h2m3.5s", Duration.ofHours(1).plusMinutes(2).plusMillis(3_500)),
            Arguments.of(".5s", Duration.ofMillis(500)),
            Arguments.of("5.s", Duration.ofSeconds(5)),
            Arguments.of("1.000000001s", Duration.ofNanos(1_000_000_001L)),
            Arguments.of("10m", Duration.ofMinutes(10)),
            Arguments.of("15s", Duration.ofSeconds(15)),
            Arguments.of("1s1s", Duration.ofSeconds(2)),
            Arguments.of("2562047h47m16.854775807s", Duration.ofNanos(Long.MAX_VALUE)));
    }

    @ParameterizedTest
    @MethodSource("goDurations")
    void shouldParseGoDurations(final String text, final Duration expected)
    {
        assertThat(GoFlags.parseDuration(text)).isEqualTo(expected);
        assertThat(parse("-d", text).duration("d", Duration.ofDays(1))).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"2", "1x", "", "-", "+", "s", ".s", "-.s", "1h-1m", "1 s", "1S", "1sec", "1m1", "1hm",
        "1.2.3s", "ms", "--1s"})
    void shouldRefuseWhatGoRefusesAsADuration(final String text)
    {
        assertThatThrownBy(() -> GoFlags.parseDuration(text))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("invalid duration");
    }

    @Test
    void shouldNameTheFlagWhenADurationIsBad()
    {
        final GoFlags flags = parse("-d", "2");

        assertThatThrownBy(() -> flags.duration("d", Duration.ZERO))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("invalid value \"2\" for flag -d: ");
    }

    /**
     * Go's {@code time.ParseDuration} accepts both micro signs: U+00B5 and the Greek letter mu U+03BC.
     */
    @Test
    void shouldAcceptTheGreekMuAsAMicrosecondUnitAsGoDoes()
    {
        assertThat(GoFlags.parseDuration("3\u03bcs")).isEqualTo(Duration.ofNanos(3_000));
    }

    /**
     * Go refuses a duration beyond int64 nanoseconds ({@code time: invalid duration "9999999999h"}); it must not
     * be clamped silently to about 292 years.
     */
    @ParameterizedTest
    @ValueSource(strings = {"9999999999h", "2562047h47m16.854775808s", "-9999999999h"})
    void shouldRefuseADurationThatOverflowsAsGoDoes(final String text)
    {
        assertThatThrownBy(() -> GoFlags.parseDuration(text))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("invalid duration");
    }
}
