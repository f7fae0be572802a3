namespace Ratchet.Yaml.Tests;

/// <summary>
/// A compiled file's version is stored with every run and compared when a later build resumes it (the CLI re-hashes
/// the recorded text): the same file must compile to the same version in every build.
/// </summary>
public sealed class VersionPinTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void Compile_FileWithEveryNodeKind_HasTheVersionEarlierBuildsRecorded()
    {
        _scratch.Write("child.yaml", """
            name: pinned-child
            inputs:
              title: string
            nodes:
              echo:
                run: echo {{ inputs.title }}
            """);
        var path = _scratch.Write("flow.yaml", """
            name: pinned
            description: every kind
            timeout: 1h
            max_visits: 40
            inputs:
              issue: int
            defaults:
              retry: { max_attempts: 2, delay: 1s }
              timeout: 5m
              env: { MODE: test }
            nodes:
              plan:
                description: plan it
                run: ./plan.sh {{ inputs.issue }}
                outputs: json
                env: { LEVEL: "3" }
                retry: 3
                timeout: 30s
                on:
                  "output.ok": review
                  exit 3: report
                  failure: report
              review:
                approval: Ship {{ inputs.issue }}?
                on: { approved: child, rejected: report }
              child:
                workflow: child.yaml
                with: { title: "Issue {{ inputs.issue }}" }
                next: end
              report:
                run: ./report.sh
                outputs: none
                fails_workflow: true
            """);

        var compiled = WorkflowCompiler.Load(path, new ShellOptions { RunsDirectory = _scratch.File("runs"), WorkspacesDirectory = _scratch.File("ws") });

        Assert.Equal(["a97edd48d479", "d3496eb97523"], compiled.Select(c => c.Definition.Version));
    }
}
