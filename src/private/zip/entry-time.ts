/**
 * The one timestamp every zip entry carries, and its MS-DOS encoding.
 *
 * Zip entries store local "MS-DOS" date and time fields with no zone and a
 * two-second resolution, for years 1980..2107. We always fill them from the UTC
 * fields of the chosen instant so the bytes do not depend on the build machine's TZ.
 */

/** 1980-01-01T00:00:00Z, the earliest instant an MS-DOS timestamp can hold. */
export const DOS_EPOCH_SECONDS = 315_532_800;
/** 2108-01-01T00:00:00Z, one past the last instant an MS-DOS timestamp can hold. */
export const DOS_END_SECONDS = 4_354_819_200;

/**
 * Resolves the entry timestamp (seconds since the Unix epoch) from the raw value of
 * `SOURCE_DATE_EPOCH`. Unset or empty means 1980-01-01T00:00:00Z.
 *
 * @throws Error naming the value and the rule when the value is not usable.
 */
export function resolveEntryTime(sourceDateEpoch: string | undefined): number {
  if (sourceDateEpoch === undefined || sourceDateEpoch === '') {
    return DOS_EPOCH_SECONDS;
  }
  if (!/^[0-9]+$/.test(sourceDateEpoch)) {
    throw new Error(
      `SOURCE_DATE_EPOCH=${JSON.stringify(sourceDateEpoch)} is not a non-negative integer number of seconds since 1970-01-01T00:00:00Z. ` +
      `Set it to an integer such as ${DOS_EPOCH_SECONDS} (1980-01-01), or unset it to use 1980-01-01T00:00:00Z.`);
  }
  const seconds = Number(sourceDateEpoch);
  if (seconds < DOS_EPOCH_SECONDS) {
    throw new Error(
      `SOURCE_DATE_EPOCH=${sourceDateEpoch} is before 1980-01-01T00:00:00Z (${DOS_EPOCH_SECONDS}), ` +
      `the earliest time a zip entry can store. Set it to ${DOS_EPOCH_SECONDS} or later, or unset it.`);
  }
  if (seconds >= DOS_END_SECONDS) {
    throw new Error(
      `SOURCE_DATE_EPOCH=${sourceDateEpoch} is after 2107-12-31T23:59:59Z, ` +
      `the latest time a zip entry can store. Set it to a value below ${DOS_END_SECONDS}, or unset it.`);
  }
  return seconds;
}

/** The MS-DOS time and date fields of a zip header for `seconds` (UTC fields, 2 s resolution). */
export function dosDateTime(seconds: number): { time: number; date: number } {
  const d = new Date(seconds * 1000);
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  return { time, date };
}
