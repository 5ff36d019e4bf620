using KdData.Imaging;
using KdData.Storage;

namespace KdData.Labeling;

/// <summary>
/// Decodes an image and cuts the views the teacher labels: with one view, the region the teacher saw in training
/// (the centred square for shorter-side resizing, else the whole image); with more, seeded random resized crops
/// (+ flip) derived from the key, so a rerun or a trainer replays exactly the same boxes. One per decode worker
/// (the decoder and preprocessor keep per-instance buffers).
/// </summary>
internal sealed class ViewPreparer
{
    private readonly ImageOptions _imageOptions;
    private readonly LabelingOptions _options;
    private readonly ImageDecoder _decoder;
    private readonly ImagePreprocessor _preprocessor;
    private readonly RandomResizedCropSampler _sampler;

    public ViewPreparer(ImageOptions imageOptions, LabelingOptions options)
    {
        _imageOptions = imageOptions;
        _options = options;
        _decoder = new ImageDecoder(imageOptions);
        _preprocessor = new ImagePreprocessor(imageOptions);
        _sampler = new RandomResizedCropSampler(scaleMin: options.ViewScaleMin);
    }

    /// <summary>The image's views, or a decode error row (never throws for a bad image).</summary>
    public PreparedImage Prepare(ObjectInfo info, byte[] bytes, int? label = null)
    {
        try
        {
            using var image = _decoder.Decode(bytes, info.Key);
            var views = _options.ViewsPerImage;
            var crops = new CropDecision[views];
            var pixels = new float[views][];
            for (var v = 0; v < views; v++)
            {
                crops[v] = views == 1
                    ? new CropDecision(DefaultCrop(image.Width, image.Height), false)
                    : _sampler.Sample(image.Width, image.Height, RandomResizedCropSampler.DeriveSeed(_options.ViewSeed, info.Key, v));
                pixels[v] = _preprocessor.Preprocess(image, crops[v].Box, crops[v].FlipHorizontal);
            }

            return new PreparedImage(info, crops, pixels, null, label);
        }
        catch (ImageDecodeException e)
        {
            return PreparedImage.Failed(info, PreparedImage.FailureRow(info, "decode", e.Reason, e.Detail));
        }
    }

    /// <summary>The region the teacher sees with one view: the centred square for shorter-side resizing, else the whole image.</summary>
    private CropBox DefaultCrop(int width, int height)
    {
        if (_imageOptions.ResizeMode != ResizeMode.ShorterSideCenterCrop)
        {
            return new CropBox(0, 0, width, height);
        }

        var side = Math.Min(width, height);
        return new CropBox((width - side) / 2, (height - side) / 2, side, side);
    }
}
