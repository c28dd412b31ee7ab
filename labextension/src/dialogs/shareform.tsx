/**
 * The Share dialog's body: who to share with, at which permission, until
 * when; the personal link of a container; who has access, to change or revoke.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IGrant, IResource, Permission, PERMISSIONS, ShareAPI } from '../api';
import { kindIcon } from '../icons';
import {
  errorMessage,
  expiryFromDate,
  expiryLabel,
  kindLabel,
  parsePrincipal,
  principalLabel,
  SharingModel
} from '../model';
import { ShareAPIError } from '../request';
import { AccessList } from './accesslist';
import { useCompletion } from './completion';
import { PersonalLink } from './personallink';
import { PrincipalInput } from './principalinput';
import { containerTrust, permissionHelp } from './words';

export function ShareForm(props: {
  api: ShareAPI;
  model: SharingModel;
  resource: IResource;
  trans: TranslationBundle;
}): JSX.Element {
  const { api, model, resource, trans } = props;
  const me = model.me?.username ?? '';
  const [principal, setPrincipal] = React.useState('');
  const [permission, setPermission] = React.useState<Permission>('view');
  const [expiry, setExpiry] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const [errorField, setErrorField] = React.useState<string | null>(null);
  const [status, setStatus] = React.useState<string | null>(null);
  const [link, setLink] = React.useState<{ who: string; url: string } | null>(
    null
  );
  const [grants, setGrants] = React.useState<IGrant[] | null>(null);
  const inputRef = React.useRef<HTMLInputElement>(null);
  const completion = useCompletion(api, [me, resource.owner]);
  const listId = `jp-share-suggestions-${resource.id}`;

  const fail = (reason: unknown) => {
    setError(errorMessage(reason));
    setErrorField(reason instanceof ShareAPIError ? reason.field : null);
  };

  const loadGrants = React.useCallback(async () => {
    try {
      setGrants(await api.grants(resource.kind, resource.id));
    } catch (reason) {
      fail(reason);
    }
  }, [api, resource]);

  React.useEffect(() => {
    void loadGrants();
  }, [loadGrants]);

  const changed = () => {
    model.scheduleRefresh();
    return loadGrants();
  };

  const share = async () => {
    setStatus(null);
    const parsed = parsePrincipal(principal);
    if (!parsed) {
      setError(trans.__('Type the name of a user, or group:NAME for a group.'));
      setErrorField('principal');
      inputRef.current?.focus();
      return;
    }
    let expiresAt: string | null;
    try {
      expiresAt = expiryFromDate(expiry, trans);
    } catch (reason) {
      fail(reason);
      return;
    }
    setBusy(true);
    completion.close();
    try {
      const grant = await api.share(
        resource.kind,
        resource.id,
        parsed.principal,
        {
          permission,
          expires_at: expiresAt
        }
      );
      setError(null);
      setErrorField(null);
      setStatus(
        trans.__(
          'Shared with %1 (%2, %3).',
          principalLabel(grant, trans),
          grant.permission,
          expiryLabel(grant.expires_at, trans)
        )
      );
      setLink(
        grant.link
          ? { who: principalLabel(grant, trans), url: grant.link }
          : null
      );
      setPrincipal('');
      await changed();
    } catch (reason) {
      fail(reason);
    } finally {
      setBusy(false);
      inputRef.current?.focus();
    }
  };

  const change = async (grant: IGrant, next: Permission) => {
    setStatus(null);
    setBusy(true);
    try {
      await api.share(resource.kind, resource.id, grant.principal, {
        permission: next,
        expires_at: grant.expires_at
      });
      setError(null);
      setStatus(
        trans.__('%1 now has %2 access.', principalLabel(grant, trans), next)
      );
      await changed();
    } catch (reason) {
      fail(reason);
      await loadGrants();
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (grant: IGrant, rekey = false) => {
    setStatus(null);
    setBusy(true);
    try {
      const answer = await api.revoke(
        resource.kind,
        resource.id,
        grant.principal,
        {
          rekey
        }
      );
      setError(null);
      setStatus(
        answer?.rekeyed
          ? trans.__(
              'Revoked %1. %2',
              principalLabel(grant, trans),
              answer.message
            )
          : trans.__('Revoked %1.', principalLabel(grant, trans))
      );
      await changed();
    } catch (reason) {
      fail(reason);
    } finally {
      setBusy(false);
    }
  };

  const Icon = kindIcon(resource.kind);
  const errorId = `jp-share-error-${resource.id}`;
  return (
    <div className="jp-share-dialog-content">
      <p className="jp-share-dialog-subject">
        <Icon.react tag="span" className="jp-share-row-icon" />
        <span>
          {trans.__(
            '%1 · %2 of %3',
            resource.name,
            kindLabel(resource.kind, trans),
            resource.owner
          )}
        </span>
      </p>
      <form
        className="jp-share-form"
        aria-label={trans.__('Share with a user or a group')}
        onSubmit={event => {
          event.preventDefault();
          void share();
        }}
      >
        <PrincipalInput
          id={`jp-share-principal-${resource.id}`}
          listId={listId}
          inputRef={inputRef}
          value={principal}
          setValue={setPrincipal}
          completion={completion}
          onSubmit={() => void share()}
          invalid={errorField === 'principal'}
          describedBy={error ? errorId : undefined}
          trans={trans}
        />
        <div className="jp-share-field">
          <label htmlFor={`jp-share-permission-${resource.id}`}>
            {trans.__('Permission')}
          </label>
          <HTMLSelect
            id={`jp-share-permission-${resource.id}`}
            name="permission"
            value={permission}
            title={permissionHelp(permission, trans)}
            options={PERMISSIONS.map(p => ({
              value: p,
              label: p,
              title: permissionHelp(p, trans)
            }))}
            onChange={event => setPermission(event.target.value as Permission)}
          />
        </div>
        <div className="jp-share-field">
          <label htmlFor={`jp-share-expiry-${resource.id}`}>
            {trans.__('Until (optional)')}
          </label>
          <input
            id={`jp-share-expiry-${resource.id}`}
            className="jp-mod-styled"
            name="expires"
            type="date"
            value={expiry}
            aria-invalid={errorField === 'expires_at'}
            onChange={event => setExpiry(event.target.value)}
          />
        </div>
        <button
          type="submit"
          className="jp-Button jp-mod-styled jp-mod-accept jp-share-submit"
          disabled={busy}
        >
          {trans.__('Share')}
        </button>
      </form>
      <p className="jp-share-help">{permissionHelp(permission, trans)}</p>
      {resource.kind === 'session' && permission !== 'view' && (
        <p className="jp-share-trust" role="note">
          {containerTrust(trans)}
        </p>
      )}
      {error && (
        <div id={errorId} className="jp-share-error" role="alert">
          {error}
        </div>
      )}
      {status && (
        <div className="jp-share-status-message" role="status">
          {status}
        </div>
      )}
      {link && <PersonalLink who={link.who} url={link.url} trans={trans} />}
      <AccessList
        resource={resource}
        grants={grants}
        busy={busy}
        onChange={(grant, next) => void change(grant, next)}
        onRevoke={(grant, rekey) => void revoke(grant, rekey)}
        trans={trans}
      />
    </div>
  );
}
