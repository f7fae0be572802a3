namespace Ratchet.Agents;

/// <summary>What an agent profile is for; tells a workflow (and the agent's command) what role it plays.</summary>
public enum AgentKind
{
    /// <summary>Breaks work into steps and hands them out.</summary>
    Planner = 0,

    /// <summary>Does any kind of task.</summary>
    Generalist = 1,

    /// <summary>Does one kind of task well (reviews, tests, docs).</summary>
    Specialist = 2,

    /// <summary>Carries out concrete actions (commands, edits) as told.</summary>
    Executor = 3,
}
