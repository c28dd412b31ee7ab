import { ServerConnection } from '@jupyterlab/services';

import type { components } from './contract';
import { requestAPI, requestFile } from './request';

/** The jupyter_events schema of environment builds (progress, end). */
export const ENVIRONMENT_SCHEMA_ID =
  'https://events.jupyter.org/jupyter_share/environment/v1';

type Schemas = components['schemas'];

/** Where a build is (`removed`: the event stream says it was removed). */
export type BuildState = Schemas['BuiltEnvironment']['state'] | 'removed';

/** An environment made in this container from an image (`BuiltEnvironment`). */
export type IBuiltEnvironment = Omit<Schemas['BuiltEnvironment'], 'state'> & {
  state: BuildState;
};

/** What using an image here would build (`UsePlan`). */
export type IUsePlan = Schemas['UsePlan'];

/** The environments part of the share API. */
export class EnvironmentsAPI {
  constructor(readonly serverSettings: ServerConnection.ISettings) {}

  /** GET /images/{id}/use: the plan, before anything is built. */
  plan(imageId: string): Promise<IUsePlan> {
    return requestAPI(
      `images/${encodeURIComponent(imageId)}/use`,
      {},
      this.serverSettings
    );
  }

  /** POST /images/{id}/use: start (or find) the build. */
  use(imageId: string): Promise<IBuiltEnvironment> {
    return requestAPI(
      `images/${encodeURIComponent(imageId)}/use`,
      { method: 'POST', body: '{}' },
      this.serverSettings
    );
  }

  /** GET /environments: those built here by the signed-in user, newest first. */
  list(): Promise<{ items: IBuiltEnvironment[]; total: number }> {
    return requestAPI('environments', {}, this.serverSettings);
  }

  /** DELETE /environments/{env}: the environment and its kernel together. */
  remove(envId: string): Promise<void> {
    return requestAPI(
      `environments/${encodeURIComponent(envId)}`,
      { method: 'DELETE' },
      this.serverSettings
    );
  }

  /** GET /environments/{env} */
  get(envId: string): Promise<IBuiltEnvironment> {
    return requestAPI(
      `environments/${encodeURIComponent(envId)}`,
      {},
      this.serverSettings
    );
  }

  /** POST /environments/{env}/cancel */
  cancel(envId: string): Promise<IBuiltEnvironment> {
    return requestAPI(
      `environments/${encodeURIComponent(envId)}/cancel`,
      { method: 'POST' },
      this.serverSettings
    );
  }

  /** GET /environments/{env}/log, as text. */
  async log(envId: string): Promise<string> {
    const file = await requestFile(
      `environments/${encodeURIComponent(envId)}/log`,
      this.serverSettings
    );
    return file.content;
  }
}
