/**
 * The panel's words about a row: a spec in short, a stopped server, an empty
 * section.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { formationSpec, imageSpec, IResource, Kind, sessionSpec } from '../api';
import { NULL_TRANS } from '../model';

/**
 * For a container whose server has stopped (its server recorded it, or another
 * server of its machine found it gone), the row's tooltip; else null.
 */
export function stoppedTitle(
  resource: IResource,
  trans: TranslationBundle = NULL_TRANS
): string | null {
  const spec = sessionSpec(resource);
  if (spec?.state !== 'stopped') {
    return null;
  }
  const at = spec.stopped_at;
  return at
    ? trans.__('Its server stopped at %1', new Date(at).toLocaleString())
    : trans.__('Its server stopped');
}

/** Which list a section shows: my resources of a kind, or those shared with me. */
export type SectionSource = Kind | 'shared';

/** A short description of a resource's spec for its row. */
export function specSummary(
  resource: IResource,
  trans: TranslationBundle = NULL_TRANS
): string {
  switch (resource.kind) {
    case 'image': {
      const spec = imageSpec(resource);
      const parts: string[] = [];
      if (spec?.reference) {
        parts.push(String(spec.reference));
      }
      // Lists carry a summary of the captured environment, not the whole.
      const env = resource.environment;
      if (env) {
        const python = env.python
          ? trans.__('Python %1', String(env.python).split(' ')[0])
          : trans.__('captured');
        parts.push(
          trans._n('%2, %1 package', '%2, %1 packages', env.packages, python)
        );
      }
      return parts.join(' · ');
    }
    case 'formation': {
      const spec = formationSpec(resource);
      const parts: string[] = [];
      if (spec?.cpu !== undefined) {
        parts.push(trans.__('%1 CPU', spec.cpu));
      }
      if (spec?.memory) {
        parts.push(String(spec.memory));
      }
      if (spec?.gpu) {
        parts.push(trans.__('%1 GPU', spec.gpu));
      }
      return parts.join(' · ');
    }
    case 'session':
      return String(sessionSpec(resource)?.url ?? '');
  }
  return '';
}

/** What to do when a section is empty. */
export function emptyText(
  source: SectionSource,
  trans: TranslationBundle
): string {
  switch (source) {
    case 'image':
      return trans.__(
        'No images yet. Create one with the + button above, or capture this container with “Create image from this container…” in the command palette.'
      );
    case 'formation':
      return trans.__(
        'No formations yet. A formation is a launch template (image, CPUs, memory, storage): create one with the toolbar button above.'
      );
    case 'session':
      return trans.__(
        'This container appears here once the server has registered it.'
      );
    case 'shared':
      return trans.__(
        'Nothing shared with you yet. When someone shares an image, a formation or their container with you, it appears here.'
      );
  }
}
