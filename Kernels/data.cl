// Minibatch gather from a dataset resident on the device, one work-item per destination element
// (an exact launch, see elementwise.cl):
//   destination[:, j] ← source[:, indices[offset + j]], `rows` floats per column.
// The host checks the indices against its copy of them before it enqueues this, so none is out
// of range here.
kernel void gather_columns(const int rows, global const float *source,
                           global const int *indices, const int offset, global float *destination)
{
    const int e = get_global_id(0);
    const int i = e % rows, j = e / rows;
    destination[e] = source[i + (size_t)indices[offset + j] * rows];
}
