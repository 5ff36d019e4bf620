// Supplies std::ios_base_library_init(), the one GLIBCXX_3.4.32 (GCC 13) symbol that
// TorchSharp 0.107's libLibTorchSharp.so needs. GCC 13 emits a call to it from every
// translation unit that includes <iostream>; all it must do is make sure the standard
// streams are constructed, which a static ios_base::Init does on any libstdc++.
#include <ios>

namespace std
{
    void ios_base_library_init()
    {
        static ios_base::Init init;
    }
}
