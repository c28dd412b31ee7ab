/**
 * The dialogs' words that other parts use too: what a permission allows,
 * what edit on a container trusts a neighbour with, "the image “CARET”".
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { IResource, Permission } from '../api';
import { kindLabel, NULL_TRANS } from '../model';

/**
 * What edit (and manage) on a container trusts the neighbour with, said
 * before it is granted.
 */
export function containerTrust(trans: TranslationBundle = NULL_TRANS): string {
  return trans.__(
    'Edit runs code as you in this container: the neighbour can read and change every file your server can, including its token, and start programs that act as you. Grant it to people you trust with your account here. When you revoke it, choose “Revoke and re-key” so that nothing they copied still works.'
  );
}

/** What a permission allows, for the permission pickers. */
export function permissionHelp(
  permission: Permission,
  trans: TranslationBundle = NULL_TRANS
): string {
  switch (permission) {
    case 'view':
      return trans.__(
        'view: see it, launch from it, open a container read-only'
      );
    case 'edit':
      return trans.__(
        'edit: also change it; in a container, run code and write files'
      );
    case 'manage':
      return trans.__('manage: also share it and revoke access');
  }
}

/** The kind-aware word for confirmations ("the image CARET"). */
export function describe(
  resource: IResource,
  trans: TranslationBundle = NULL_TRANS
): string {
  return trans.__(
    'the %1 “%2”',
    kindLabel(resource.kind, trans),
    resource.name
  );
}
