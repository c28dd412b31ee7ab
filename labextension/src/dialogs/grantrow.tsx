/**
 * One grant in the Share dialog's access list: its permission picker and
 * its revoke button (with re-keying offered where it matters).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IGrant, Permission, PERMISSIONS } from '../api';
import { groupPrincipalIcon, userPrincipalIcon } from '../icons';
import { expiryLabel, principalLabel } from '../model';

export function GrantRow(props: {
  grant: IGrant;
  trans: TranslationBundle;
  busy: boolean;
  onChange: (permission: Permission) => void;
  onRevoke: (rekey: boolean) => void;
  /** Edit on a container ran code as the owner: offer to re-key on revoking. */
  offerRekey: boolean;
}): JSX.Element {
  const { grant, trans } = props;
  const label = principalLabel(grant, trans);
  const [confirming, setConfirming] = React.useState(false);
  if (confirming) {
    return (
      <li
        className="jp-share-access-row jp-share-revoke-confirm"
        data-principal={grant.principal}
        role="group"
        aria-label={trans.__('Revoke %1', label)}
      >
        <p className="jp-share-trust">
          {trans.__(
            '%1 could run code as you here. Re-keying gives this server a new token and cookie secret, so nothing they copied still works; this browser stays signed in, other browsers and tokens sign in again.',
            label
          )}
        </p>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-reject"
          onClick={() => setConfirming(false)}
        >
          {trans.__('Cancel')}
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-warn"
          disabled={props.busy}
          onClick={() => props.onRevoke(false)}
        >
          {trans.__('Revoke')}
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-warn jp-share-rekey"
          disabled={props.busy}
          onClick={() => props.onRevoke(true)}
        >
          {trans.__('Revoke and re-key')}
        </button>
      </li>
    );
  }
  const Icon = grant.kind === 'group' ? groupPrincipalIcon : userPrincipalIcon;
  return (
    <li className="jp-share-access-row" data-principal={grant.principal}>
      <Icon.react tag="span" className="jp-share-row-icon" />
      <span
        className="jp-share-access-name"
        title={trans.__('granted by %1', grant.granted_by)}
      >
        {grant.name}
        {grant.kind === 'group' && (
          <span className="jp-share-muted">{trans.__(' (group)')}</span>
        )}
      </span>
      <HTMLSelect
        className="jp-share-access-permission"
        name="grant-permission"
        aria-label={trans.__('Permission of %1', label)}
        value={grant.permission}
        disabled={props.busy}
        options={[...PERMISSIONS]}
        onChange={event => props.onChange(event.target.value as Permission)}
      />
      <span className="jp-share-access-expiry">
        {expiryLabel(grant.expires_at, trans)}
      </span>
      <button
        type="button"
        className="jp-Button jp-mod-styled jp-mod-warn jp-share-revoke"
        aria-label={trans.__('Revoke %1', label)}
        disabled={props.busy}
        onClick={() =>
          props.offerRekey ? setConfirming(true) : props.onRevoke(false)
        }
      >
        {trans.__('Revoke')}
      </button>
    </li>
  );
}
