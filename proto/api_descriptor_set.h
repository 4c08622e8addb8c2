// The serialized google.protobuf.FileDescriptorSet of the whole API, with source comments and
// every imported file, built by proto/CMakeLists.txt (target mediation_api_descriptor).
#ifndef PPA_MEDIATION_V1_API_DESCRIPTOR_SET_H_
#define PPA_MEDIATION_V1_API_DESCRIPTOR_SET_H_

#include <cstddef>

namespace ppa::mediation::v1 {
extern const unsigned char kApiDescriptorSet[];
extern const std::size_t kApiDescriptorSetSize;
}  // namespace ppa::mediation::v1

#endif  // PPA_MEDIATION_V1_API_DESCRIPTOR_SET_H_
