/**
 * A container's personal share link in the Share dialog.
 */
import { Clipboard } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { copyIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

/** A container's personal share link, shown once, with a copy button. */
export function PersonalLink(props: {
  who: string;
  url: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const [copied, setCopied] = React.useState(false);
  return (
    <div
      className="jp-share-link"
      role="group"
      aria-label={trans.__('Personal link')}
    >
      <p>
        {trans.__(
          'Send this personal link to %1: it opens this container under their own name. It is shown only now.',
          props.who
        )}
      </p>
      <div className="jp-share-link-row">
        <input
          className="jp-mod-styled"
          name="link"
          type="text"
          readOnly
          value={props.url}
          aria-label={trans.__('Personal link for %1', props.who)}
          onFocus={event => event.target.select()}
        />
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-share-copy"
          onClick={() => {
            Clipboard.copyToSystem(props.url);
            setCopied(true);
          }}
          aria-label={trans.__('Copy the link')}
        >
          <copyIcon.react tag="span" />
          {copied ? trans.__('Copied') : trans.__('Copy')}
        </button>
      </div>
    </div>
  );
}
