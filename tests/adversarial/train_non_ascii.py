from transformers import TrainingArguments
args = TrainingArguments(output_dir="café 東京", per_device_train_batch_size=1, gradient_accumulation_steps=16, fp16=True)
