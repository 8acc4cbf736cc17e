using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using Fwmark.Cni;
using Fwmark.Core.Selection;

namespace Fwmark.Core.Logging;

/// <summary>
/// Wraps the plugin and appends one JSON line per invocation to the conflist's <c>logFile</c>: time, level, verb,
/// network, container, ifname, pod (from CNI_ARGS), the mark selected and why, addresses, warnings, duration since
/// the process started, outcome (and the CNI error code and message when it failed). JSON lines rather than logfmt:
/// values (error texts, pod names) need no escaping rules of their own and every log shipper parses them.
/// Logging never changes the CNI answer: a log file that cannot be opened or written (missing dir, permissions,
/// full disk) costs one line on stderr and nothing else. Without <c>logFile</c> nothing is formatted at all.
/// </summary>
public sealed class LoggingPlugin(ICniPlugin inner, InvocationRecord record, long startTimestamp, TextWriter stderr) : ICniPlugin
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public void Add(CniRequest request) => Logged(request, inner.Add);

    public void Del(CniRequest request) => Logged(request, inner.Del);

    public void Check(CniRequest request) => Logged(request, inner.Check);

    public void Gc(CniRequest request) => Logged(request, inner.Gc);

    public void Status(CniRequest request) => Logged(request, inner.Status);

    private void Logged(CniRequest request, Action<CniRequest> verb)
    {
        var settings = LogSettings.ReadLenient(request.Config);
        if (settings.File is null)
        {
            verb(request);
            return;
        }

        try
        {
            verb(request);
        }
        catch (CniException e)
        {
            Write(settings, request, LogLevel.Error, e.Code, e.Message, e.Details);
            throw;
        }
        catch (Exception e)
        {
            Write(settings, request, LogLevel.Error, CniErrorCodes.Internal, e.Message, null);
            throw;
        }

        Write(settings, request, record.Warnings.Count > 0 ? LogLevel.Warn : LogLevel.Info, null, null, null);
    }

    private void Write(LogSettings settings, CniRequest request, LogLevel level, int? code, string? message, string? details)
    {
        if (level > settings.Level)
        {
            return;
        }

        try
        {
            var line = Format(settings, request, level, code, message, details);
            // One write(2) on an O_APPEND fd: concurrent invocations' lines do not interleave.
            using var file = new FileStream(settings.File!, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            file.Write(line);
        }
        catch (Exception e)
        {
            try
            {
                stderr.WriteLine($"fwmark: failed to write log file {settings.File}: {e.Message}");
            }
            catch (IOException)
            {
                // stderr is gone too; the CNI answer is what matters.
            }
        }
    }

    private byte[] Format(LogSettings settings, CniRequest request, LogLevel level, int? code, string? message, string? details)
    {
        using var buffer = new MemoryStream(512);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"));
            json.WriteString("level", LogSettings.Name(level));
            json.WriteString("verb", CniEnvironment.VerbOf(request.Command));
            json.WriteString("network", request.NetworkName);
            WriteIfAny(json, "container", request.ContainerId);
            WriteIfAny(json, "ifname", request.IfName);
            if (request.Args.TryGetValue(MarkSelector.ArgNamespace, out var ns) && request.Args.TryGetValue("K8S_POD_NAME", out var pod))
            {
                json.WriteString("pod", $"{ns}/{pod}");
            }

            if (record.Selection is { } selection)
            {
                json.WriteString("mark", selection.Mark.Name);
                json.WriteString("value", $"0x{selection.Mark.Value:x}/0x{selection.Mark.Mask:x}");
                json.WriteString("why", selection.Source);
            }

            if (record.Addresses.Count > 0)
            {
                json.WriteStartArray("addresses");
                foreach (var address in record.Addresses)
                {
                    json.WriteStringValue(address.ToString());
                }

                json.WriteEndArray();
            }

            if (record.Warnings.Count > 0)
            {
                json.WriteStartArray("warnings");
                record.Warnings.ForEach(json.WriteStringValue);
                json.WriteEndArray();
            }

            json.WriteNumber("durationMs", Math.Round(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds, 3));
            json.WriteString("outcome", code is null ? "ok" : "error");
            if (code is { } c)
            {
                json.WriteNumber("code", c);
                json.WriteString("error", message);
            }

            if (settings.Level == LogLevel.Debug)
            {
                WriteIfAny(json, "details", details);
                WriteIfAny(json, "decision", record.Decision);
            }

            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void WriteIfAny(Utf8JsonWriter json, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            json.WriteString(name, value);
        }
    }
}
