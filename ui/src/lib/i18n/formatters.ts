// Intl formatters, made once per locale and options (no runes: pure helpers use them too).

/** Intl formatters by locale and options, made once: making one costs far more than using
 * it, and `t`, `time` and `day` run for every message and card drawn. The code holds a handful
 * of option sets, so this stays small. */
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat | Intl.PluralRules>();

function formatter<T extends Intl.NumberFormat | Intl.DateTimeFormat | Intl.PluralRules>(key: string, make: () => T): T {
  let f = formatters.get(key) as T | undefined;
  if (f === undefined) {
    f = make();
    formatters.set(key, f);
  }
  return f;
}

/** A number format of `locale`, made once per locale and options. */
export function numberFormat(locale: string, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  return formatter(`n|${locale}|${JSON.stringify(options)}`, () => new Intl.NumberFormat(locale, options));
}

/** A date and time format of `locale`, made once per locale and options. */
export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions = {}): Intl.DateTimeFormat {
  return formatter(`d|${locale}|${JSON.stringify(options)}`, () => new Intl.DateTimeFormat(locale, options));
}

/** The plural rules of `locale`, made once. */
export function pluralRules(locale: string): Intl.PluralRules {
  return formatter(`p|${locale}`, () => new Intl.PluralRules(locale));
}
