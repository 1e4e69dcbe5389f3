using System.Globalization;
using System.Net;
using SparkReco.Core.Errors;

namespace SparkReco.Engine.Spark;

/// <summary>
/// A Spark Connect address, <c>sc://host[:port]/;use_ssl=true;user_id=…;user_agent=…;session_id=&lt;uuid&gt;</c> (the
/// connection-string form every Spark Connect client reads; default port 15002). The token is never taken from it:
/// configuration files get committed, so a token comes only from <see cref="TokenVariable"/>.
/// </summary>
public sealed record SparkRemote
{
    public const int DefaultPort = 15002;

    /// <summary>The environment variable the bearer token is read from.</summary>
    public const string TokenVariable = "SPARKRECO_SPARK_TOKEN";

    public required string Host { get; init; }
    public int Port { get; init; } = DefaultPort;

    /// <summary>TLS on the channel; on by default when a token is set (as in Spark's own clients).</summary>
    public bool UseSsl { get; init; }

    public string UserId { get; init; } = Environment.UserName;
    public string? UserAgent { get; init; }

    /// <summary>The session to join (a UUID), or null for a new one.</summary>
    public string? SessionId { get; init; }

    /// <summary>The bearer token, from the environment only.</summary>
    public string? Token { get; init; }

    /// <summary>Parameters the connection string names that Spark Connect does not define: sent as gRPC headers, as the spec says.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    public Uri Address => new($"{(UseSsl ? "https" : "http")}://{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Parses <paramref name="remote"/>; <paramref name="setting"/> names where it came from in every error.</summary>
    /// <param name="environment">Reads an environment variable (the token); tests pass their own.</param>
    public static SparkRemote Parse(string remote, string setting, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(remote);
        environment ??= Environment.GetEnvironmentVariable;
        ConfigurationException Bad(string problem) =>
            new($"setting '{setting}' ('{Redact(remote)}') {problem}. Expected sc://host:port/;use_ssl=true;user_id=NAME (port {DefaultPort} when left out).");

        if (!remote.StartsWith("sc://", StringComparison.OrdinalIgnoreCase)) throw Bad("does not start with sc://");
        var rest = remote["sc://".Length..];
        var semicolon = rest.IndexOf(';', StringComparison.Ordinal);
        var authority = (semicolon < 0 ? rest : rest[..semicolon]).TrimEnd('/');
        var parameters = semicolon < 0 ? "" : rest[(semicolon + 1)..];
        if (authority.Contains('/', StringComparison.Ordinal)) throw Bad("has a path; a Spark Connect address is only host and port");
        if (authority.Length == 0) throw Bad("has no host");

        string host;
        var port = DefaultPort;
        var portText = (string?)null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) throw Bad("has an unclosed [ in the host");
            host = authority[1..close];
            if (close + 1 < authority.Length)
            {
                if (authority[close + 1] != ':') throw Bad("has text after the host");
                portText = authority[(close + 2)..];
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            if (colon >= 0) portText = authority[(colon + 1)..];
        }
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            throw Bad($"has port '{portText}', not a number from 1 to 65535");
        if (host.Length == 0) throw Bad("has no host");

        bool? useSsl = null;
        string userId = Environment.UserName;
        string? userAgent = null, sessionId = null;
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in parameters.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw Bad($"has parameter '{Redact(part)}' without a value (name=value)");
            var name = part[..eq].Trim();
            var value = Uri.UnescapeDataString(part[(eq + 1)..].Trim());
            switch (name)
            {
                case "token":
                    throw new ConfigurationException(
                        $"setting '{setting}' carries a token (;token=…). Configuration files and command lines get committed and logged, " +
                        $"so SparkReco takes the Spark Connect token only from the environment variable {TokenVariable}: remove ';token=…' from the address and set {TokenVariable} instead.");
                case "use_ssl":
                    useSsl = value.ToLowerInvariant() switch
                    {
                        "true" => true,
                        "false" => false,
                        _ => throw Bad($"has use_ssl='{value}'; use true or false"),
                    };
                    break;
                case "user_id":
                    userId = value;
                    break;
                case "user_agent":
                    userAgent = value;
                    break;
                case "session_id":
                    if (!Guid.TryParseExact(value, "D", out var session)) throw Bad($"has session_id '{value}', which is not a UUID (00112233-4455-6677-8899-aabbccddeeff); Spark refuses other session ids");
                    sessionId = session.ToString("D");
                    break;
                default:
                    headers[name.ToLowerInvariant()] = value;
                    break;
            }
        }

        var token = environment(TokenVariable);
        if (string.IsNullOrEmpty(token)) token = null;
        var ssl = useSsl ?? token is not null;
        if (token is not null && !ssl && !IsLoopback(host))
            throw new ConfigurationException(
                $"setting '{setting}' sets use_ssl=false while {TokenVariable} holds a token: the token would cross the network in clear text to '{host}'. " +
                "Use use_ssl=true (the default with a token), or reach the server through a local tunnel (sc://localhost:PORT).");
        return new SparkRemote { Host = host, Port = port, UseSsl = ssl, UserId = userId, UserAgent = userAgent, SessionId = sessionId, Token = token, Headers = headers };
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The address with every parameter value hidden, for messages (a token must never reach a log).</summary>
    public static string Redact(string remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var semicolon = remote.IndexOf(';', StringComparison.Ordinal);
        if (semicolon < 0) return remote;
        var parts = remote[(semicolon + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Contains('=', StringComparison.Ordinal) ? p[..p.IndexOf('=', StringComparison.Ordinal)] + "=…" : "…");
        return remote[..(semicolon + 1)] + string.Join(';', parts);
    }

    /// <summary>The address without secrets, for logs and the manifest.</summary>
    public override string ToString() => $"sc://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}/;use_ssl={(UseSsl ? "true" : "false")};user_id={UserId}";
}
