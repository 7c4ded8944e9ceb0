// The events the CLI itself writes on a scenario's timeline, as host `lab` (runner.ts), kind → data.
// scripts/events-doc.ts puts them in docs/EVENTS.md beside the hosts' events.

export type LabRunEvent =
  | {
      /** a scenario begins */
      kind: 'scenario.start';
      data: { scenario: string };
    }
  | {
      /** a `say:` step: the story's sentence */
      kind: 'scenario.say';
      data: { step: number };
    }
  | {
      /** an action step begins */
      kind: 'scenario.step';
      data: { step: number; action?: string };
    }
  | {
      /** the scenario ended (passed or failed: the summary says) */
      kind: 'scenario.end';
      data?: undefined;
    };
