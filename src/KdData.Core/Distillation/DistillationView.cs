using KdData.Imaging;
using KdData.SoftTargets;

namespace KdData.Distillation;

/// <summary>One view of an image the teacher labeled: the crop and flip it saw, and its soft target.</summary>
/// <param name="Crop">Replayed exactly when the view is drawn, so the student sees the pixels the target belongs to.</param>
/// <param name="Target">The teacher's soft target for that view.</param>
public readonly record struct DistillationView(CropDecision Crop, SoftTarget Target);
