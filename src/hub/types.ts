/**
 * Pushes interaction updates to signed-in agents. In-process on Node; a Durable Object on Workers.
 * The app only publishes; each hub decides how to fan out and how a reconnecting client catches up.
 */
export interface PushMessage {
  type: 'interaction';
  /** The callerpop interaction id. */
  id: string;
  /** Monotonic per interaction (its updatedAt), so clients can drop stale or repeated frames. */
  version: number;
  /** The interaction view, as `GET /api/interactions/:sid` returns it. */
  interaction: unknown;
}

export interface AgentHub {
  publish(message: PushMessage): Promise<void>;
}

/** A hub that drops everything: for tools (backfill, seed) that build the app without agents. */
export const nullHub: AgentHub = { publish: async () => {} };
