// Contacts: the contacts screen's search and open contact, and the calls that link a
// customer's LINE profile to a contact. After any change the search and the open contact are
// read again, so every screen shows what the relay now holds.
import type { Backend, Contact, ContactFields, ContactSummary, LinkRequest, ProfileIdentity } from "../ipc/types";
import { Reads } from "./reads";

export class ContactsStore {
  query = $state("");
  /** The search's answer; null until the first one. */
  found = $state<Contact[] | null>(null);
  open = $state<ContactSummary | null>(null);

  private reads = new Reads();

  constructor(private backend: Backend) {}

  /** Searches by name, phone or email (empty: the most recent). */
  async search() {
    const read = this.reads.start();
    const found = await this.backend.searchContacts({ query: this.query.trim() });
    if (read.newest()) this.found = found;
  }

  /** Contacts matching `query`, without touching the screen's search. */
  find(query: string): Promise<Contact[]> {
    return this.backend.searchContacts({ query });
  }

  async show(id: number) {
    this.open = await this.backend.getContact({ id });
  }

  summary(id: number): Promise<ContactSummary> {
    return this.backend.getContact({ id });
  }

  /** What the relay knows of a customer: the contacts linked to this LINE profile. */
  profile(channelId: string, userId: string): Promise<ProfileIdentity> {
    return this.backend.getProfile({ channelId, userId });
  }

  /** Creates a contact, linked to `link` when given. */
  async create(fields: ContactFields, link: LinkRequest | null = null): Promise<ContactSummary> {
    return this.changed(await this.backend.createContact({ contact: { ...fields, link } }));
  }

  async update(id: number, fields: ContactFields): Promise<ContactSummary> {
    return this.changed(await this.backend.updateContact({ id, fields }));
  }

  async link(id: number, link: LinkRequest): Promise<ContactSummary> {
    return this.changed(await this.backend.linkProfile({ id, link }));
  }

  async unlink(id: number, link: LinkRequest): Promise<ContactSummary> {
    return this.changed(await this.backend.unlinkProfile({ id, link }));
  }

  /** Merges `other` into `keep`; `other` is gone afterwards. */
  async merge(keep: number, other: number): Promise<ContactSummary> {
    return this.changed(await this.backend.mergeContacts({ id: keep, merge: { other } }), other);
  }

  /** Saves the contact's export into Downloads; answers the path. */
  export(id: number): Promise<string> {
    return this.backend.exportContact(id);
  }

  async erase(id: number) {
    await this.backend.eraseContact({ id });
    if (this.open?.contact.id === id) this.open = null;
    await this.refreshSearch();
  }

  /** The open contact becomes `s` if it is the one changed, or the one `gone` into it. */
  private async changed(s: ContactSummary, gone?: number): Promise<ContactSummary> {
    const open = this.open?.contact.id;
    if (open === s.contact.id || (open !== undefined && open === gone)) this.open = s;
    await this.refreshSearch();
    return s;
  }

  private async refreshSearch() {
    if (this.found !== null) await this.search();
  }
}
