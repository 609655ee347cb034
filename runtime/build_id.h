/* build_id.h — the GNU build id of the loaded object that holds a given address, for keys
 * that must change whenever that object is rebuilt (jit/cache.c: the JIT module; src/dist:
 * libzexus, so ranks of different builds refuse each other). */
#ifndef ZX_BUILD_ID_H
#define ZX_BUILD_ID_H

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

/* Set addr to an address inside the object, call dl_iterate_phdr(find_build_id, &b); id stays
 * NULL when the object has no build id note. */
typedef struct build_id {
    uintptr_t addr;
    const uint8_t *id;
    size_t len;
} build_id;

static inline int find_build_id(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    build_id *b = arg;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && b->addr >= start && b->addr < start + ph->p_memsz) mine = 1;
    }
    if (!mine) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof *nh;
            const uint8_t *desc = name + ((nh->n_namesz + 3u) & ~3u);
            if (desc + nh->n_descsz > end) break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                b->id = desc;
                b->len = nh->n_descsz;
                return 1;
            }
            p = desc + ((nh->n_descsz + 3u) & ~3u);
        }
    }
    return 1;
}

#endif
