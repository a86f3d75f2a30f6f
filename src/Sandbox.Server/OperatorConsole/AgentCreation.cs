using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Guard.Agents;
using Sandbox.Server.Runs;

namespace Sandbox.Server.OperatorConsole;

/// <summary>
/// Creating an agent in three steps: the form, a confirmation repeating what will be created, and the new key shown once.
/// Validated by <see cref="AgentAdmin.Validate"/> at each step and created by <see cref="AgentAdmin.CreateAsync"/>, as
/// <c>POST /admin/v1/agents</c> does.
/// </summary>
internal static class AgentCreation
{
    private static readonly AgentSpec s_defaults = new() { Name = "", Profiles = [] };

    public static Task<IResult> FormAsync(HttpContext context, ConsoleSession session) =>
        Task.FromResult(Form(context, session, s_defaults, [], StatusCodes.Status200OK));

    /// <summary>The form's post: back to the form with every error, the confirmation, or (confirmed) the agent and its key.</summary>
    public static async Task<IResult> SubmitAsync(HttpContext context, ConsoleSession session, IFormCollection form)
    {
        var admin = context.RequestServices.GetRequiredService<AgentAdmin>();
        var (spec, errors) = Read(form);
        if (errors.Count == 0)
        {
            errors.AddRange(admin.Validate(spec).Select(e => $"{Field(e.Field)}: {e.Message}"));
        }

        if (errors.Count > 0)
        {
            return Form(context, session, spec, errors, StatusCodes.Status400BadRequest);
        }

        if (form["confirm"].FirstOrDefault() != "yes")
        {
            return Confirm(session, spec);
        }

        var result = await admin.CreateAsync(spec, ApprovalPages.Actor(session), context.RequestAborted);
        if (!result.Ok)
        {
            var failure = result.Errors is { Count: > 0 } list ? list.Select(e => $"{Field(e.Field)}: {e.Message}").ToList() : [result.Message ?? "not possible now"];
            return Form(context, session, spec, failure, result.Failure == AdminFailure.Conflict ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest);
        }

        var issued = result.Value!;
        ConsoleLog.AgentCreated(ConsoleLog.For(context), issued.Agent.Name, session.Operator);
        var body = new ConsoleHtml().Raw("<p id=\"outcome\" role=\"status\">").Text($"Created agent {issued.Agent.Name} ({issued.Agent.Id}).").Raw("</p>");
        AgentPages.IssuedKey(body, issued.Key, issued.KeyId);
        body.Raw("<p><a href=\"/console/agents\">Back to the agents</a></p>");
        return ConsolePages.Page($"Agent {issued.Agent.Name} created", session, body, StatusCodes.Status201Created);
    }

    private static IResult Form(HttpContext context, ConsoleSession session, AgentSpec spec, List<string> errors, int status)
    {
        var profiles = context.RequestServices.GetRequiredService<RunLifecycle>().Pipeline.Profiles.All.Select(p => p.Name).Order(StringComparer.Ordinal);
        var body = new ConsoleHtml();
        if (errors.Count > 0)
        {
            body.Raw("<ul class=\"error\" role=\"alert\" id=\"errors\">");
            foreach (var error in errors)
            {
                body.Element("li", error);
            }

            body.Raw("</ul>");
        }

        body.Raw("<form method=\"post\" action=\"/console/agents/new\" class=\"stack\">").Csrf(session)
            .Raw("<label for=\"name\">Name (lowercase letters, digits, '.', '_' and '-')</label><input id=\"name\" name=\"name\" type=\"text\" maxlength=\"64\" required autocomplete=\"off\" value=\"").Text(spec.Name).Raw("\">")
            .Raw("<fieldset><legend>Profiles it may use</legend>");
        foreach (var profile in profiles)
        {
            var id = "profile-" + profile;
            body.Raw("<div class=\"check\"><input type=\"checkbox\" name=\"profiles\" id=\"").Text(id).Raw("\" value=\"").Text(profile).Raw(spec.Profiles.Contains(profile) ? "\" checked>" : "\">")
                .Raw("<label for=\"").Text(id).Raw("\">").Text(profile).Raw("</label></div>");
        }

        body.Raw("</fieldset>");
        Number(body, "rate", "Runs per minute", spec.RatePerMinute);
        Number(body, "concurrent", "Runs at once", spec.MaxConcurrentRuns);
        Number(body, "runs", "Runs a day", spec.DailyRuns);
        Number(body, "cpu", "CPU seconds a day", spec.DailyCpuSeconds);
        Number(body, "storedMb", "Stored a day (MiB)", spec.DailyStoredMb);
        Number(body, "sessions", "Sessions open at once", spec.MaxOpenSessions);
        Number(body, "sessionMemory", "Memory of open sessions (MiB)", spec.MaxSessionMemoryMb);
        Number(body, "days", "Expires in (days)", spec.ExpiresIn.TotalDays);
        body.Raw("<button type=\"submit\">Review</button></form><p><a href=\"/console/agents\">Cancel</a></p>");
        return ConsolePages.Page("Create an agent", session, body, status);
    }

    /// <summary>The confirmation: every value repeated, carried in hidden fields to the post that creates.</summary>
    private static IResult Confirm(ConsoleSession session, AgentSpec spec)
    {
        var body = new ConsoleHtml().Raw("<p>").Text($"Create agent {spec.Name}? Its key is shown once, on the next page.").Raw("</p><dl class=\"facts\" id=\"review\">")
            .Raw("<dt>Profiles</dt><dd>").Text(string.Join(", ", spec.Profiles)).Raw("</dd>")
            .Raw("<dt>Caps</dt><dd>").Text(string.Create(CultureInfo.InvariantCulture, $"{spec.RatePerMinute}/min, {spec.MaxConcurrentRuns} at once, {spec.DailyRuns} runs, {spec.DailyCpuSeconds:0.#} CPU s and {spec.DailyStoredMb} MiB stored a day, {spec.MaxOpenSessions} sessions within {spec.MaxSessionMemoryMb} MiB")).Raw("</dd>")
            .Raw("<dt>Expires in</dt><dd>").Text(string.Create(CultureInfo.InvariantCulture, $"{spec.ExpiresIn.TotalDays:0.##} days")).Raw("</dd></dl>")
            .Raw("<form method=\"post\" action=\"/console/agents/new\" class=\"stack\">").Csrf(session).Raw("<input type=\"hidden\" name=\"confirm\" value=\"yes\">");
        Hidden(body, "name", spec.Name);
        foreach (var profile in spec.Profiles)
        {
            Hidden(body, "profiles", profile);
        }

        Hidden(body, "rate", spec.RatePerMinute.ToString(CultureInfo.InvariantCulture));
        Hidden(body, "concurrent", spec.MaxConcurrentRuns.ToString(CultureInfo.InvariantCulture));
        Hidden(body, "runs", spec.DailyRuns.ToString(CultureInfo.InvariantCulture));
        Hidden(body, "cpu", spec.DailyCpuSeconds.ToString(CultureInfo.InvariantCulture));
        Hidden(body, "storedMb", spec.DailyStoredMb.ToString(CultureInfo.InvariantCulture));
        Hidden(body, "sessions", spec.MaxOpenSessions.ToString(CultureInfo.InvariantCulture));
        Hidden(body, "sessionMemory", spec.MaxSessionMemoryMb.ToString(CultureInfo.InvariantCulture));
        Hidden(body, "days", spec.ExpiresIn.TotalDays.ToString(CultureInfo.InvariantCulture));
        body.Raw("<button type=\"submit\" id=\"confirm\">Create agent</button></form><p><a href=\"/console/agents\">Cancel</a></p>");
        return ConsolePages.Page($"Create {spec.Name}", session, body);
    }

    /// <summary>The spec the form describes; a number that is not one is an error naming its field.</summary>
    private static (AgentSpec Spec, List<string> Errors) Read(IFormCollection form)
    {
        var errors = new List<string>();
        var spec = new AgentSpec
        {
            Name = (form["name"].FirstOrDefault() ?? "").Trim(),
            Profiles = [.. form["profiles"].OfType<string>().Distinct(StringComparer.Ordinal)],
            RatePerMinute = (int)Read(form, "rate", s_defaults.RatePerMinute, errors),
            MaxConcurrentRuns = (int)Read(form, "concurrent", s_defaults.MaxConcurrentRuns, errors),
            DailyRuns = (int)Read(form, "runs", s_defaults.DailyRuns, errors),
            DailyCpuSeconds = Read(form, "cpu", s_defaults.DailyCpuSeconds, errors),
            MaxSessionMemoryMb = (int)Read(form, "sessionMemory", s_defaults.MaxSessionMemoryMb, errors),
            MaxOpenSessions = (int)Read(form, "sessions", s_defaults.MaxOpenSessions, errors),
            DailyStoredMb = (int)Read(form, "storedMb", s_defaults.DailyStoredMb, errors),
            ExpiresIn = TimeSpan.FromDays(Read(form, "days", s_defaults.ExpiresIn.TotalDays, errors)),
        };
        return (spec, errors);
    }

    private static double Read(IFormCollection form, string field, double fallback, List<string> errors)
    {
        var text = form[field].FirstOrDefault()?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        // Bounded so the casts to int above and TimeSpan.FromDays cannot overflow; AgentAdmin.Validate judges the value itself.
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && Math.Abs(value) <= 1_000_000)
        {
            return value;
        }

        errors.Add($"{Field(field)}: '{(text.Length > 20 ? text[..20] + "…" : text)}' is not a number from -1000000 to 1000000");
        return fallback;
    }

    /// <summary>The form's label for a field <see cref="AgentAdmin.Validate"/> or this form names.</summary>
    private static string Field(string field) => field switch
    {
        "rate" or "ratePerMinute" => "Runs per minute",
        "concurrent" or "maxConcurrentRuns" => "Runs at once",
        "runs" or "dailyRuns" => "Runs a day",
        "cpu" or "dailyCpuSeconds" => "CPU seconds a day",
        "storedMb" or "dailyStoredMb" => "Stored a day (MiB)",
        "sessions" or "maxOpenSessions" => "Sessions open at once",
        "sessionMemory" or "maxSessionMemoryMb" => "Memory of open sessions (MiB)",
        "days" or "expiresIn" => "Expires in (days)",
        "profiles" => "Profiles",
        "name" => "Name",
        _ => field,
    };

    private static void Number(ConsoleHtml body, string name, string label, double value) =>
        body.Raw("<label for=\"").Raw(name).Raw("\">").Raw(label).Raw("</label><input id=\"").Raw(name).Raw("\" name=\"").Raw(name).Raw("\" type=\"number\" step=\"any\" required value=\"")
            .Text(value.ToString(CultureInfo.InvariantCulture)).Raw("\">");

    private static void Hidden(ConsoleHtml body, string name, string value) =>
        body.Raw("<input type=\"hidden\" name=\"").Raw(name).Raw("\" value=\"").Text(value).Raw("\">");
}
