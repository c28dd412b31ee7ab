/**
 * A labelled text input of the forms that create.
 */
import * as React from 'react';

export interface IField {
  name: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: string;
  placeholder?: string;
  invalid?: boolean;
  step?: string;
  min?: string;
}

export function Field(props: IField): JSX.Element {
  const id = React.useMemo(
    () => `jp-share-field-${props.name}-${Math.random().toString(36).slice(2)}`,
    [props.name]
  );
  return (
    <div className="jp-share-form-row">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        className="jp-mod-styled"
        name={props.name}
        type={props.type ?? 'text'}
        placeholder={props.placeholder}
        value={props.value}
        step={props.step}
        min={props.min}
        aria-invalid={props.invalid}
        onChange={event => props.onChange(event.target.value)}
      />
    </div>
  );
}
