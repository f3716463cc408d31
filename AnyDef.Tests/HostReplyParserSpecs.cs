using System.Buffers;
using System.Text;
using AnyDefNet.Sandbox.Internal;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>The library's reader of one protocol line: a value of an unexpected type never reads as another field.</summary>
[Trait("Category", "Hostile")]
public sealed class HostReplyParserSpecs
{
    private static HostReply.Line? Read(string json, out string? problem) =>
        HostReply.ReadLine(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), out problem);

    [Fact]
    public void A_well_formed_reply_reads_as_its_fields()
    {
        var line = Read("""{"id":5,"ok":true,"exiting":true,"reply":"{\"ok\":true,\"result\":1}","stdout":"hi","prof":[1,2],"other":{"id":7}}""", out var problem);

        problem.Should().BeNull();
        line!.Id.Should().Be(5);
        line.Exiting.Should().BeTrue();
        line.Output.Should().Be("hi");
        line.Profile.Should().Equal(1, 2);
    }

    [Theory]
    [InlineData("""{"id":5,"exiting":{"id":7,"ok":true,"reply":"{}"}}""", "\"exiting\" is an object")]
    [InlineData("""{"exiting":{"id":7},"id":5}""", "\"exiting\" is an object")]
    [InlineData("""{"id":5,"prof":[1,{"id":7}],"ok":true}""", "\"prof\"")]
    [InlineData("""{"id":{"id":7},"ok":true}""", "\"id\" is an object")]
    [InlineData("""{"id":5,"ok":"true"}""", "\"ok\" is a string")]
    [InlineData("""{"id":5,"ok":true,"stdout":["a"]}""", "\"stdout\" is an array")]
    [InlineData("""{"id":5,"ok":false,"error":"boom"}""", "\"error\" is a string")]
    [InlineData("""{"id":5,"ready":{"id":7}}""", "\"ready\" is an object")]
    [InlineData("""{"id":5,"ok":true} {"id":7}""", "not JSON")]
    [InlineData("""{"id":5,"ok":true,"busy":{"id":7}}""", "\"busy\" is an object")]
    [InlineData("""{"id":5,"ok":true,"busy":-3}""", "\"busy\" is a number")]
    [InlineData("""{"id":5,"ok":true,"busy":1.5}""", "\"busy\" is a number")]
    public void A_value_of_an_unexpected_type_is_a_broken_line_never_another_field(string json, string named)
    {
        var line = Read(json, out var problem);

        line.Should().BeNull();
        problem.Should().Contain(named);
    }

    [Fact]
    public void An_output_past_the_hosts_own_cap_is_a_broken_line_and_one_within_it_is_kept()
    {
        var within = new string('x', HostReply.MaxOutputChars);
        var past = new string('x', HostReply.MaxOutputChars * 6 + 1);

        Read($$"""{"id":5,"ok":true,"stdout":"{{within}}"}""", out var problem)!.Output.Should().HaveLength(HostReply.MaxOutputChars);
        problem.Should().BeNull();
        Read($$"""{"id":5,"ok":true,"stdout":"{{past}}"}""", out problem).Should().BeNull();
        problem.Should().Contain("output limit");
    }

    [Fact]
    public void The_time_a_call_kept_its_process_busy_is_read_when_present()
    {
        Read("""{"id":5,"ok":true,"reply":"{}","busy":42}""", out var problem)!.BusyMicroseconds.Should().Be(42);
        problem.Should().BeNull();
        Read("""{"id":5,"ok":true,"reply":"{}"}""", out _)!.BusyMicroseconds.Should().BeNull();
    }
}
