/**
 * What each workspace refused: native streaming (chat.startStream) and thread status (assistant.threads.setStatus).
 * Remembered per workspace for the life of the process, so a workspace that cannot stream is not retried on every
 * answer; a restart tries again (the workspace may have been upgraded meanwhile).
 */
export type Feature = 'streaming' | 'status';

export class WorkspaceFeatures {
  private readonly refused = new Map<string, string>();

  /** Whether `feature` may be tried in `teamId` (unknown workspaces may try). */
  allows(teamId: string | null, feature: Feature): boolean {
    return !this.refused.has(`${feature}:${teamId ?? ''}`);
  }

  /** Records that `teamId` refused `feature` with `code`; returns true the first time (to log it once). */
  refuse(teamId: string | null, feature: Feature, code: string): boolean {
    const key = `${feature}:${teamId ?? ''}`;
    if (this.refused.has(key)) return false;
    this.refused.set(key, code);
    return true;
  }
}
