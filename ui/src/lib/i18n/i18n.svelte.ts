// The chosen language: from the OS at start, switchable at once in Settings.
import { dateTimeFormat, numberFormat, pluralRules } from "./formatters";
import { CATALOGUES, LOCALES, type Key, type Locale } from "./messages";

export function pickLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-TW";
    for (const l of LOCALES) if (lower === l.toLowerCase() || lower.startsWith(`${l.toLowerCase()}-`)) return l;
  }
  return "en";
}

function stored(): Locale | null {
  try {
    const v = localStorage.getItem("linedesk.locale");
    return (LOCALES as readonly string[]).includes(v ?? "") ? (v as Locale) : null;
  } catch {
    return null;
  }
}

class I18n {
  locale = $state<Locale>(stored() ?? pickLocale(typeof navigator === "undefined" ? [] : navigator.languages));

  /** The OS locale from the shell, unless the user chose a language in Settings. */
  adoptOsLocale(tag: string | null) {
    if (tag && stored() === null) {
      this.locale = pickLocale([tag]);
      document.documentElement.lang = this.locale;
    }
  }

  set(locale: Locale) {
    this.locale = locale;
    try {
      localStorage.setItem("linedesk.locale", locale);
    } catch {
      /* private mode: the choice lasts for this run */
    }
    document.documentElement.lang = locale;
  }

  t = (key: Key, params: Record<string, string | number> = {}): string => {
    const entry = CATALOGUES[this.locale][key] ?? CATALOGUES.en[key];
    let text: string;
    if (typeof entry === "string") {
      text = entry;
    } else {
      const n = Number(params.count ?? 0);
      const cat = pluralRules(this.locale).select(n) as "one" | "other";
      text = entry[cat] ?? entry.other;
    }
    return text.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = params[name];
      return v === undefined ? `{${name}}` : typeof v === "number" ? numberFormat(this.locale).format(v) : v;
    });
  };

  time = (ms: number): string =>
    dateTimeFormat(this.locale, { hour: "2-digit", minute: "2-digit" }).format(new Date(ms));

  day = (ms: number): string => dateTimeFormat(this.locale, { dateStyle: "medium" }).format(new Date(ms));
}

export const i18n = new I18n();

/** The shell's words (notification buttons, tray) in the chosen language; placeholders stay
 * for the shell to fill. */
export function shellWords() {
  const keep = { count: "{count}", seconds: "{seconds}", queue: "{queue}" };
  return {
    open: i18n.t("shell.open"),
    accept: i18n.t("requests.accept"),
    reject: i18n.t("requests.reject"),
    show: i18n.t("shell.show"),
    quit: i18n.t("shell.quit"),
    waiting: i18n.t("shell.waiting", keep),
    breach: i18n.t("shell.breach", keep),
    reminder: i18n.t("shell.reminder"),
  };
}
