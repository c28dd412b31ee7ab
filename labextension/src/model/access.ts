/**
 * What an access allows.
 */

/** Whether an access allows listing grants, sharing and revoking. */
export function canManage(access: string): boolean {
  return access === 'owner' || access === 'manage';
}
