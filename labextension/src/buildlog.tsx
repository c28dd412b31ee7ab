import * as React from 'react';

/** A build's log, as the installers printed it. */
export function BuildLog(props: { text: string }): JSX.Element {
  return (
    <pre className="jp-share-build-log" tabIndex={0}>
      {props.text}
    </pre>
  );
}
