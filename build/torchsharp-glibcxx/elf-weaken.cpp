// elf-weaken: lets a shared library that was linked against a newer libstdc++ load on an older
// one, when the newer version tag is needed for symbols that a shim library supplies instead.
//
//   elf-weaken <file.so> <version-tag> <symbol>
//
// 1. In .gnu.version_r, the auxiliary entry named <version-tag> gets VER_FLG_WEAK: the dynamic
//    loader then only warns (under LD_DEBUG) instead of refusing to load when no library
//    defines the tag.
// 2. In .gnu.version, <symbol>'s entry becomes 1 (VER_NDX_GLOBAL): it binds to any definition,
//    so the shim's unversioned one satisfies it.
// The file is edited in place; the build calls this on a private copy, never on the NuGet cache.
// Exit codes: 0 patched, 3 already patched, 1 error.
#include <elf.h>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

static int fail(const std::string& message)
{
    std::fprintf(stderr, "elf-weaken: %s\n", message.c_str());
    return 1;
}

int main(int argc, char** argv)
{
    if (argc != 4)
        return fail("usage: elf-weaken <file.so> <version-tag> <symbol>");
    const std::string path = argv[1], tag = argv[2], symbol = argv[3];

    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail("cannot open " + path);
    std::vector<unsigned char> image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();

    if (image.size() < sizeof(Elf64_Ehdr) || std::memcmp(image.data(), ELFMAG, SELFMAG) != 0 ||
        image[EI_CLASS] != ELFCLASS64 || image[EI_DATA] != ELFDATA2LSB)
        return fail(path + " is not a little-endian 64-bit ELF file");

    auto* header = reinterpret_cast<Elf64_Ehdr*>(image.data());
    if (header->e_shoff + static_cast<size_t>(header->e_shnum) * sizeof(Elf64_Shdr) > image.size())
        return fail(path + ": section table out of range");
    auto* sections = reinterpret_cast<Elf64_Shdr*>(image.data() + header->e_shoff);

    Elf64_Shdr* verneed = nullptr;
    Elf64_Shdr* versym = nullptr;
    Elf64_Shdr* dynsym = nullptr;
    for (int i = 0; i < header->e_shnum; ++i)
    {
        if (sections[i].sh_type == SHT_GNU_verneed) verneed = &sections[i];
        if (sections[i].sh_type == SHT_GNU_versym) versym = &sections[i];
        if (sections[i].sh_type == SHT_DYNSYM) dynsym = &sections[i];
    }
    if (!verneed || !versym || !dynsym)
        return fail(path + ": no .gnu.version_r, .gnu.version or .dynsym section");

    auto inRange = [&](size_t offset, size_t size) { return offset + size <= image.size(); };
    const Elf64_Shdr& verneedStrings = sections[verneed->sh_link];
    const Elf64_Shdr& dynsymStrings = sections[dynsym->sh_link];
    auto stringAt = [&](const Elf64_Shdr& table, size_t offset) -> const char* {
        return inRange(table.sh_offset + offset, 1) ? reinterpret_cast<const char*>(image.data() + table.sh_offset + offset) : "";
    };

    // 1. Mark the version tag weak and remember its index.
    int tagIndex = -1;
    bool alreadyWeak = false;
    size_t needOffset = verneed->sh_offset;
    for (size_t n = 0; n < verneed->sh_info; ++n)
    {
        if (!inRange(needOffset, sizeof(Elf64_Verneed)))
            return fail(path + ": .gnu.version_r out of range");
        auto* need = reinterpret_cast<Elf64_Verneed*>(image.data() + needOffset);
        size_t auxOffset = needOffset + need->vn_aux;
        for (size_t a = 0; a < need->vn_cnt; ++a)
        {
            if (!inRange(auxOffset, sizeof(Elf64_Vernaux)))
                return fail(path + ": .gnu.version_r entry out of range");
            auto* aux = reinterpret_cast<Elf64_Vernaux*>(image.data() + auxOffset);
            if (tag == stringAt(verneedStrings, aux->vna_name))
            {
                tagIndex = aux->vna_other;
                alreadyWeak = (aux->vna_flags & VER_FLG_WEAK) != 0;
                aux->vna_flags |= VER_FLG_WEAK;
            }
            auxOffset += aux->vna_next;
        }
        needOffset += need->vn_next;
    }

    // 2. Clear the symbol's version.
    bool symbolFound = false, symbolAlreadyClear = false;
    const size_t symbolCount = dynsym->sh_size / sizeof(Elf64_Sym);
    auto* symbols = reinterpret_cast<Elf64_Sym*>(image.data() + dynsym->sh_offset);
    auto* versions = reinterpret_cast<Elf64_Half*>(image.data() + versym->sh_offset);
    if (!inRange(dynsym->sh_offset, dynsym->sh_size) || !inRange(versym->sh_offset, symbolCount * sizeof(Elf64_Half)))
        return fail(path + ": .dynsym or .gnu.version out of range");
    for (size_t i = 0; i < symbolCount; ++i)
    {
        if (symbol == stringAt(dynsymStrings, symbols[i].st_name))
        {
            symbolFound = true;
            symbolAlreadyClear = versions[i] == VER_NDX_GLOBAL;
            if (tagIndex >= 0 && (versions[i] & 0x7fff) != tagIndex && !symbolAlreadyClear)
                return fail(path + ": " + symbol + " is not versioned " + tag);
            versions[i] = VER_NDX_GLOBAL;
        }
    }

    // Weakening the tag is only safe when the shim supplies everything that needs it.
    for (size_t i = 0; tagIndex >= 0 && i < symbolCount; ++i)
    {
        if ((versions[i] & 0x7fff) == tagIndex && symbols[i].st_shndx == SHN_UNDEF)
            return fail(path + ": " + stringAt(dynsymStrings, symbols[i].st_name) + " also needs " + tag + "; the shim does not supply it");
    }

    if (tagIndex < 0 && !symbolFound)
    {
        std::fprintf(stderr, "elf-weaken: %s needs neither %s nor %s; nothing to do\n", path.c_str(), tag.c_str(), symbol.c_str());
        return 3;
    }
    if (!symbolFound)
        return fail(path + ": needs " + tag + " but has no symbol " + symbol + "; the shim would not be enough");
    if ((tagIndex < 0 || alreadyWeak) && symbolAlreadyClear)
        return 3;

    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
    if (!out)
        return fail("cannot write " + path);
    return 0;
}
