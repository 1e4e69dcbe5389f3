using SparkReco.Core.Errors;
using SparkReco.Engine.Spark;

namespace SparkReco.Spark.Tests;

/// <summary>Spark Connect addresses: sc://host:port/;params, the token only from the environment.</summary>
public sealed class RemoteTests
{
    private static SparkRemote Parse(string remote, string? token = null) =>
        SparkRemote.Parse(remote, "Engine:SparkRemote", name => name == SparkRemote.TokenVariable ? token : null);

    [Fact]
    public void Host_alone_takes_the_default_port_and_a_new_session()
    {
        var remote = Parse("sc://spark.example.com");
        Assert.Equal("spark.example.com", remote.Host);
        Assert.Equal(15002, remote.Port);
        Assert.False(remote.UseSsl);
        Assert.Null(remote.SessionId);
        Assert.Equal(new Uri("http://spark.example.com:15002"), remote.Address);
    }

    [Fact]
    public void Parameters_are_read_and_unknown_ones_become_headers()
    {
        var session = Guid.NewGuid().ToString("D");
        var remote = Parse($"sc://[::1]:443/;use_ssl=true;user_id=etl;user_agent=nightly;session_id={session};x-cluster-id=abc");
        Assert.Equal("::1", remote.Host);
        Assert.Equal(443, remote.Port);
        Assert.True(remote.UseSsl);
        Assert.Equal("etl", remote.UserId);
        Assert.Equal("nightly", remote.UserAgent);
        Assert.Equal(session, remote.SessionId);
        Assert.Equal("abc", remote.Headers["x-cluster-id"]);
        Assert.Equal(new Uri("https://[::1]:443"), remote.Address);
    }

    [Fact]
    public void A_token_in_the_address_is_refused_naming_the_setting_and_the_variable_without_echoing_it()
    {
        var error = Assert.Throws<ConfigurationException>(() => Parse("sc://h:15002/;token=abc123secret"));
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains("'Engine:SparkRemote'", error.Message, StringComparison.Ordinal);
        Assert.Contains(SparkRemote.TokenVariable, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("abc123secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_from_the_environment_turns_tls_on_and_is_never_printed()
    {
        var remote = Parse("sc://spark.example.com:15002", token: "tok");
        Assert.True(remote.UseSsl);
        Assert.Equal("tok", remote.Token);
        Assert.DoesNotContain("tok", remote.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_over_plain_text_is_refused_unless_the_host_is_this_machine()
    {
        var error = Assert.Throws<ConfigurationException>(() => Parse("sc://spark.example.com/;use_ssl=false", token: "tok"));
        Assert.Contains("use_ssl=true", error.Message, StringComparison.Ordinal);
        Assert.False(Parse("sc://127.0.0.1:15002/;use_ssl=false", token: "tok").UseSsl);
        Assert.False(Parse("sc://localhost/;use_ssl=false", token: "tok").UseSsl);
    }

    [Theory]
    [InlineData("http://h:15002", "does not start with sc://")]
    [InlineData("sc://h:99999", "not a number from 1 to 65535")]
    [InlineData("sc://h:15002/path", "has a path")]
    [InlineData("sc://h/;session_id=42", "not a UUID")]
    [InlineData("sc://h/;use_ssl=yes", "use_ssl='yes'")]
    [InlineData("sc://", "has no host")]
    public void Malformed_addresses_name_the_setting_and_the_problem(string remote, string problem)
    {
        var error = Assert.Throws<ConfigurationException>(() => Parse(remote));
        Assert.Contains("'Engine:SparkRemote'", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }
}
