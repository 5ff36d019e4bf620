Console.WriteLine("Trainer: coming in the next commit");
