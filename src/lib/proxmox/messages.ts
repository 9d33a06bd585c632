// The messages of the Proxmox part, in English and French (see ../run/catalogue.ts): what each
// `pveum` change does, in words; the pveum command lines themselves are never translated.
import { catalogue } from '../run/catalogue.js';

export const messages = catalogue({
  createUser: (userid: string) => ({
    en: `create the Proxmox user ${userid}`,
    fr: `créer l'utilisateur Proxmox ${userid}`,
  }),
  updateUser: (userid: string) => ({
    en: `update the Proxmox user ${userid}`,
    fr: `mettre à jour l'utilisateur Proxmox ${userid}`,
  }),
  updateAndEnableUser: (userid: string) => ({
    en: `update the Proxmox user ${userid} (enable it)`,
    fr: `mettre à jour l'utilisateur Proxmox ${userid} (et le réactiver)`,
  }),
  giveRole: (userid: string, role: string) => ({
    en: `give ${userid} the role ${role} on /`,
    fr: `donner à ${userid} le rôle ${role} sur /`,
  }),
  disableUser: (userid: string) => ({
    en: `disable the Proxmox user ${userid}`,
    fr: `désactiver l'utilisateur Proxmox ${userid}`,
  }),
});
