using System.Diagnostics;
using System.Text;
using Ratchet.Expressions;

namespace Ratchet.Tests.Expressions;

public sealed class TemplateTests
{
    [Fact]
    public void Render_SeveralHoles_SubstitutesEach()
    {
        var template = Template.Parse("./plan.sh {{ inputs.issue }} --branch {{ artifacts.plan.branch }} --id {{ workflow.id }}");

        Assert.Equal("./plan.sh 123 --branch fix/crash --id AB12CD34", template.Render(Scopes.Standard));
        Assert.Equal(["inputs.issue", "artifacts.plan.branch", "workflow.id"], template.Expressions.Select(e => e.Text));
        Assert.Equal(["inputs"], template.Expressions[0].RootNames);
    }

    [Theory]
    [InlineData("{{inputs.issue}}", "123")]
    [InlineData("{{   inputs.issue   }}", "123")]
    [InlineData("{{\n  inputs.issue\n}}", "123")]
    [InlineData("#{{inputs.issue}}{{workflow.id}}!", "#123AB12CD34!")]
    [InlineData("{{ 'Fix: ' + output.title }}", "Fix: Crash on start")]
    [InlineData("{{ output.status == 'done' }}", "true")]
    [InlineData("{{ len(output.items) }} items", "3 items")]
    [InlineData("{{ output.obj }}", "{\"k\":\"v\"}")]
    [InlineData("{{ output.items }}", "[\"a\",\"b\",\"c\"]")]
    [InlineData("[{{ output.missing }}]", "[]")]
    [InlineData("[{{ output.nothing }}]", "[]")]
    [InlineData("{{ output.ratio }}", "0.5")]
    [InlineData("{{ output[\"dash-key\"] }}", "dashed")]
    public void Render_Hole_UsesTheTextOfItsValue(string text, string expected)
    {
        Assert.Equal(expected, Template.Parse(text).Render(Scopes.Standard));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("no holes at all", "no holes at all")]
    [InlineData("a {{{{ b }} c", "a {{ b }} c")]
    [InlineData("{{{{", "{{")]
    [InlineData("{{{{{{ inputs.issue }}", "{{123")]
    [InlineData("{{ inputs.issue }}{{{{", "123{{")]
    [InlineData("{{ '{{' }}", "{{")]
    [InlineData("{{ '}}' }}", "}}")]
    [InlineData("{{ \"a }} b\" }}", "a }} b")]
    [InlineData("a }} b", "a }} b")]
    [InlineData("}}}}", "}}}}")]
    [InlineData("{ single } braces {x}", "{ single } braces {x}")]
    [InlineData("awk '{print $1}' {{ inputs.issue }}", "awk '{print $1}' 123")]
    [InlineData("back\\slash {{ inputs.issue }} \\{{{{", "back\\slash 123 \\{{")]
    [InlineData("${HOME} {{ inputs.issue }}", "${HOME} 123")]
    [InlineData("{{ inputs.issue }}}", "123}")]
    public void Render_BracesAndEscapes_FollowTheDocumentedRules(string text, string expected)
    {
        Assert.Equal(expected, Template.Parse(text).Render(Scopes.Standard));
    }

    [Fact]
    public void Parse_Null_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Template.Parse(null!));
    }

    [Fact]
    public void Parse_Template_KeepsItsText()
    {
        var template = Template.Parse("echo {{ inputs.issue }}");

        Assert.Equal("echo {{ inputs.issue }}", template.Text);
        Assert.Equal("echo {{ inputs.issue }}", template.ToString());
    }

    [Theory]
    [InlineData("echo {{ inputs.issue", 20, "expected '}}' to close the '{{' at position 5")]
    [InlineData("echo {{", 7, "expected an expression and '}}' to close the '{{' at position 5")]
    [InlineData("echo {{ }}", 5, "the '{{ }}' is empty")]
    [InlineData("echo {{}} x", 5, "the '{{ }}' is empty")]
    [InlineData("echo {{ inputs.issue == }}", 24, "expected a value after '==', found '}}'")]
    [InlineData("echo {{ a b }}", 10, "expected an operator or '}}' to close the '{{' at position 5, found 'b'")]
    [InlineData("x {{ a } }}", 7, "unexpected '}'; a '{{' hole is closed by '}}'")]
    [InlineData("x {{ {a} }}", 5, "unexpected '{' inside '{{ }}'; to write '{{' as text, write '{{{{'")]
    [InlineData("x {{{ a }}", 4, "unexpected '{' inside '{{ }}'")]
    [InlineData("ok {{ a }} then {{ 'unclosed }}", 19, "the string that starts at position 19 is not closed")]
    [InlineData("{{ a }} and {{ foo(1) }}", 15, "unknown function 'foo'")]
    [InlineData("{{ a }} and {{ (a }}", 18, "expected ')' to close the '(' at position 15, found '}}'")]
    [InlineData("run {{ a = 1 }}", 9, "'=' is not an operator")]
    public void Parse_MalformedTemplate_ThrowsWithPositionInTheWholeTemplate(string text, int position, string reason)
    {
        var exception = Assert.Throws<ExpressionException>(() => Template.Parse(text));

        Assert.Equal(position, exception.Position);
        Assert.Contains(reason, exception.Reason, StringComparison.Ordinal);
        Assert.Equal(text, exception.ExpressionText);
        Assert.False(exception.IsEvaluationError);
        Assert.Equal($"The template \"{text}\" is invalid at position {position}: {exception.Reason}.", exception.Message);
    }

    [Fact]
    public void Parse_MultiLineTemplateError_GivesLineAndColumnAndTheLine()
    {
        var text = "set -e\n./build.sh\n./plan.sh {{ inputs.issue == }} --fast\n./done.sh";

        var exception = Assert.Throws<ExpressionException>(() => Template.Parse(text));

        Assert.Equal(text.IndexOf("}}", StringComparison.Ordinal), exception.Position);
        Assert.Contains("(line 3, column 30)", exception.Message, StringComparison.Ordinal);
        Assert.Contains("./plan.sh {{ inputs.issue == }} --fast", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("./done.sh", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_HoleFails_ThrowsWithPositionInTheWholeTemplate()
    {
        var template = Template.Parse("echo {{ workflow.id }} {{ output.status < 1 }}");

        var exception = Assert.Throws<ExpressionException>(() => template.Render(Scopes.Standard));

        Assert.Equal(40, exception.Position);
        Assert.True(exception.IsEvaluationError);
        Assert.Equal(
            "The template \"echo {{ workflow.id }} {{ output.status < 1 }}\" could not be evaluated at position 40: cannot compare a string with a number using '<'; '<', '<=', '>' and '>=' compare two numbers or two strings (check for null first, or convert with number() or string()).",
            exception.Message);
    }

    [Fact]
    public void RenderForShell_Values_AreSingleQuotedAndLiteralTextIsKept()
    {
        var scope = Scopes.WithInputs(new Dictionary<string, string>
        {
            ["plain"] = "123",
            ["quote"] = "it's",
            ["empty"] = "",
        });

        var rendered = Template.Parse("./plan.sh {{ inputs.plain }} --title {{ inputs.quote }} --x={{ inputs.empty }} {{ inputs.missing }} | tee 'log file'").RenderForShell(scope);

        Assert.Equal("./plan.sh '123' --title 'it'\\''s' --x='' '' | tee 'log file'", rendered);
    }

    [Fact]
    public void RenderForShell_NoHoles_IsTheTextAsWritten()
    {
        Assert.Equal("echo '{{' \"$HOME\"", Template.Parse("echo '{{{{' \"$HOME\"").RenderForShell(default));
    }

    [Fact]
    public void RenderForShell_ValueWithNul_IsRefused()
    {
        var scope = Scopes.WithInputs(new Dictionary<string, string> { ["v"] = "a\0b" });
        var template = Template.Parse("echo {{ inputs.v }}");

        var exception = Assert.Throws<ExpressionException>(() => template.RenderForShell(scope));

        Assert.Equal(5, exception.Position);
        Assert.Contains("NUL character", exception.Reason, StringComparison.Ordinal);
        Assert.Equal("echo a\0b", template.Render(scope));
    }

    private static readonly string[] HostileValueList =
    [
        "'; rm -rf /",
        "'",
        "''",
        "\\'",
        "'\\''",
        "$(touch PWNED)",
        "`touch PWNED`",
        "$HOME",
        "${IFS}",
        "\"double\" quotes",
        "a b  c",
        "\ttab\t",
        "back\\slash\\",
        "*",
        "?",
        "[a-z]*",
        "~",
        "~root",
        "-n",
        "-e",
        "--flag=1",
        "; echo PWNED",
        "&& echo PWNED",
        "| cat",
        "> PWNED",
        "< /etc/passwd",
        "!!",
        "#comment",
        "héllo wörld 😀",
        "",
        " ",
        "%s%d%n",
        "a\nb",
        "\n",
        "end with newline\n",
        "\r\n",
    ];

    public static TheoryData<string> HostileValues => new(HostileValueList);

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task RenderForShell_HostileValue_ArrivesAsExactlyOneUnchangedArgument(string value)
    {
        using var directory = new TempDirectory();
        var scope = Scopes.WithInputs(new Dictionary<string, string> { ["v"] = value });
        var command = Template.Parse("set -- {{ inputs.v }}; printf '%s\\n' \"$#\"; printf '%s' \"$1\"").RenderForShell(scope);

        var output = await RunShellAsync(command, directory.Path);

        Assert.Equal("1\n" + value, output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(directory.Path));
    }

    [Fact]
    public async Task RenderForShell_ManyHostileValuesOnOneLine_PrintfGetsEachAsOneArgument()
    {
        using var directory = new TempDirectory();
        var values = HostileValueList.Where(v => !v.Contains('\n', StringComparison.Ordinal) && !v.Contains('\r', StringComparison.Ordinal)).ToArray();
        var inputs = values.Select((v, i) => (Key: $"v{i}", Value: v)).ToDictionary(p => p.Key, p => p.Value);
        var holes = string.Join(" ", inputs.Keys.Select(k => $"{{{{ inputs.{k} }}}}"));
        var command = Template.Parse($"printf '%s\\n' {holes}").RenderForShell(Scopes.WithInputs(inputs));

        var output = await RunShellAsync(command, directory.Path);

        Assert.Equal(values, output.Split('\n')[..^1]);
        Assert.Empty(Directory.EnumerateFileSystemEntries(directory.Path));
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task RenderForShell_HoleInsideDoubleQuotes_HostileValueArrivesAsTextAndRunsNothing(string value)
    {
        using var directory = new TempDirectory();
        var scope = Scopes.WithInputs(new Dictionary<string, string> { ["v"] = value });
        var command = Template.Parse("printf '%s' \"Fixing {{ inputs.v }}!\" \"$(printf '%s' \"[{{ inputs.v }}]\")\"").RenderForShell(scope);

        var output = await RunShellAsync(command, directory.Path);

        // Command substitution drops trailing newlines: the brackets keep them.
        Assert.Equal($"Fixing {value}![{value}]", output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(directory.Path));
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task RenderForShell_HoleInsideCommandSubstitution_IsOneQuotedWord(string value)
    {
        using var directory = new TempDirectory();
        var scope = Scopes.WithInputs(new Dictionary<string, string> { ["v"] = value });
        var command = Template.Parse("x=\"$(set -- {{ inputs.v }}; printf '%s:%s.' \"$#\" \"$1\")\"; printf '%s' \"$x\"").RenderForShell(scope);

        var output = await RunShellAsync(command, directory.Path);

        Assert.Equal($"1:{value}.", output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(directory.Path));
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task RenderForShell_HoleInQuotedHeredoc_HostileValueIsTheBodyAsItIs(string value)
    {
        using var directory = new TempDirectory();
        var scope = Scopes.WithInputs(new Dictionary<string, string> { ["v"] = value });
        var command = Template.Parse("cat <<'EOF'\n<{{ inputs.v }}>\nEOF\ncat <<-\"END\"\n\t{{ inputs.v }}\n\tEND\n").RenderForShell(scope);

        var output = await RunShellAsync(command, directory.Path);

        // <<- strips leading tabs from every line of the body, the value's own lines included.
        var stripped = string.Join('\n', value.Split('\n').Select(l => l.TrimStart('\t')));
        Assert.Equal($"<{value}>\n{stripped}\n", output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(directory.Path));
    }

    [Theory]
    [InlineData("EOF")]
    [InlineData("x\nEOF\ntouch PWNED")]
    [InlineData("x\n\t\tEND")]
    public void RenderForShell_HeredocValueWithTheDelimiterAsALine_IsRefused(string value)
    {
        var template = Template.Parse("cat <<'EOF'\n{{ inputs.v }}\nEOF\ncat <<-'END'\n\t{{ inputs.w }}\nEND\n");
        var scope = Scopes.WithInputs(new Dictionary<string, string>
        {
            ["v"] = value.Contains("END", StringComparison.Ordinal) ? "fine" : value,
            ["w"] = value.Contains("END", StringComparison.Ordinal) ? value : "fine",
        });
        Assert.Empty(template.FindShellProblems());

        var exception = Assert.Throws<ExpressionException>(() => template.RenderForShell(scope));

        Assert.Contains("would end the here-document early", exception.Reason, StringComparison.Ordinal);
        Assert.Equal(value.Contains("END", StringComparison.Ordinal) ? template.Text.IndexOf("{{ inputs.w", StringComparison.Ordinal) : 12, exception.Position);
    }

    [Theory]
    [InlineData("echo 'x {{ inputs.v }}'", "inside single quotes")]
    [InlineData("echo $'x {{ inputs.v }}'", "inside single quotes")]
    [InlineData("jq '.title == \"{{ inputs.v }}\"' plan.json", "inside single quotes")]
    [InlineData("cat <<EOF\n{{ inputs.v }}\nEOF", "delimiter is not quoted")]
    [InlineData("echo `echo {{ inputs.v }}`", "inside backquotes")]
    [InlineData("echo \"`echo {{ inputs.v }}`\"", "inside backquotes")]
    [InlineData("echo hi # {{ inputs.v }}", "inside a comment")]
    [InlineData("echo ${X:-{{ inputs.v }}}", "inside ${...}")]
    [InlineData("echo \"${X:-{{ inputs.v }}}\"", "inside ${...}")]
    [InlineData("echo $(( 1 + {{ inputs.v }} ))", "arithmetic")]
    [InlineData("(( x = {{ inputs.v }} ))", "arithmetic")]
    [InlineData("echo \\{{ inputs.v }}", "follows a backslash")]
    [InlineData("echo \"\\{{ inputs.v }}\"", "follows a backslash")]
    [InlineData("echo ${{ inputs.v }}", "follows '$'")]
    [InlineData("echo \"${{ inputs.v }}\"", "follows '$'")]
    [InlineData("echo \"$HOME{{ inputs.v }}\"", "lengthen that variable's name")]
    [InlineData("cat <<{{ inputs.v }}\nx\n", "delimiter")]
    [InlineData("cat << EOF{{ inputs.v }}\nx\nEOF\n", "delimiter")]
    [InlineData("x=$(case a in a) echo;; esac); echo {{ inputs.v }}", "cannot tell for sure")]
    public void FindShellProblems_HoleWhereNoQuotingIsSafe_IsRefusedAtTheHole(string text, string reason)
    {
        var template = Template.Parse(text);

        var problem = Assert.Single(template.FindShellProblems());
        var rendering = Assert.Throws<ExpressionException>(() => template.RenderForShell(Scopes.WithInputs(new Dictionary<string, string> { ["v"] = "$(touch PWNED)" })));

        Assert.Contains(reason, problem.Reason, StringComparison.Ordinal);
        Assert.StartsWith("'{{ inputs.v }}' ", problem.Reason, StringComparison.Ordinal);
        Assert.Contains("env:", problem.Reason, StringComparison.Ordinal);
        Assert.Equal(text.IndexOf("{{ inputs.v", StringComparison.Ordinal), problem.Position);
        Assert.Equal((problem.Position, problem.Reason), (rendering.Position, rendering.Reason));
    }

    [Theory]
    [InlineData("./plan.sh {{ inputs.v }} --title=\"{{ inputs.v }}\"")]
    [InlineData("echo 'quoted' {{ inputs.v }} \"a $HOME b\" '#' {{ inputs.v }}")]
    [InlineData("echo a#{{ inputs.v }} \"$HOME\"{{ inputs.v }} ${HOME}{{ inputs.v }} \"${HOME}{{ inputs.v }}\" $HOME{{ inputs.v }}")]
    [InlineData("x=$(echo \"$(echo {{ inputs.v }})\" '{{{{ literal }}' # comment\n) && echo \"$x\" {{ inputs.v }}")]
    [InlineData("cat <<'EOF' > out.txt; echo {{ inputs.v }}\nbody {{ inputs.v }}\nEOF\necho \"after {{ inputs.v }}\"")]
    [InlineData("cat <<EOF\nplain body $HOME\nEOF\necho {{ inputs.v }}")]
    [InlineData("echo 'it''s' \"say \\\"hi\\\"\" {{ inputs.v }}")]
    [InlineData("echo $# {{ inputs.v }} $(( 1 + 2 )) {{ inputs.v }}")]
    public void FindShellProblems_HolesInWordsDoubleQuotesAndQuotedHeredocs_AreAccepted(string text)
    {
        Assert.Empty(Template.Parse(text).FindShellProblems());
    }

    private static async Task<string> RunShellAsync(string command, string workingDirectory)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"sh exited with {process.ExitCode}: {await error}");
        Assert.Equal("", await error);
        return await output;
    }

    private sealed class TempDirectory : IDisposable
    {
        public TempDirectory() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ratchet-expr-" + Guid.NewGuid().ToString("N"));

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
